import { expect, test } from "bun:test";
import type { Gateway } from "../../src/gateway.ts";
import { Closing } from "../../src/lifecycle.ts";
import { silentLogger } from "../../src/log.ts";
import { drainAndStop } from "../../src/runtime/shutdown.ts";
import { FakeTime } from "../helpers/fake-time.ts";

/** `fn` called once when `closing` closes, and the function that ends the subscription (watch + unwatch). */
function onClose(closing: Closing, fn: () => void): () => void {
  const token = closing.watch(fn);
  return () => closing.unwatch(token);
}

/** A gateway with `running` requests in flight and `queued` waiting; records the shutdown steps. */
function fakeGateway(state: { running: number; queued: number }) {
  const steps: string[] = [];
  const deps = {
    lifecycle: { shuttingDown: false },
    inflight: { total: () => state.running },
    pools: { queued: () => state.queued },
  };
  const gateway = {
    deps: deps as unknown as Gateway["deps"],
    stop: async () => {
      steps.push(`stop (running ${state.running}, queued ${state.queued})`);
    },
  };
  const server = {
    port: 0,
    hostname: "127.0.0.1",
    close: async (opts?: { drainMs?: number }) => {
      steps.push(`close (drain ${opts?.drainMs})`);
    },
  };
  return { gateway, server, steps, deps };
}

test("the grace lets running and queued requests finish; the gateway stops as soon as none is left", async () => {
  const time = new FakeTime();
  const state = { running: 2, queued: 1 };
  const { gateway, server, steps, deps } = fakeGateway(state);
  const done = drainAndStop({ gateway, server, graceMs: 30_000, logger: silentLogger(), ...time });
  await time.advanceAsync(1000);
  expect(deps.lifecycle.shuttingDown).toBe(true);
  expect(steps).toEqual([]);
  state.queued = 0;
  state.running = 0;
  await time.advanceAsync(50);
  await done;
  expect(steps).toEqual(["stop (running 0, queued 0)", "close (drain 2000)"]);
  expect(time.clock.now()).toBeLessThan(1000 + 2000);
});

test("past the grace, the gateway stops (answering what is left) before the server closes", async () => {
  const time = new FakeTime();
  const { gateway, server, steps } = fakeGateway({ running: 1, queued: 3 });
  let stopped = false;
  const done = drainAndStop({ gateway, server, graceMs: 5000, logger: silentLogger(), ...time }).then(() => {
    stopped = true;
  });
  await time.advanceAsync(4999);
  expect(stopped).toBe(false);
  await time.advanceAsync(1);
  await done;
  expect(steps).toEqual(["stop (running 1, queued 3)", "close (drain 2000)"]);
});

test("Closing fires each listener once, skips those that left, and fires late ones at once", () => {
  const closing = new Closing();
  const calls: string[] = [];
  // Many at once: an AbortSignal would make Node print a MaxListenersExceededWarning past 10.
  for (let i = 0; i < 50; i++) onClose(closing, () => calls.push("x"));
  const leave = onClose(closing, () => calls.push("left"));
  leave();
  closing.close();
  closing.close();
  expect(calls.length).toBe(50);
  expect(calls).not.toContain("left");
  expect(closing.closed).toBe(true);
  onClose(closing, () => calls.push("late"));
  expect(calls.at(-1)).toBe("late");
});

test("Closing reuses the slots of those that left: a second unsubscribe never removes the one after", () => {
  const closing = new Closing();
  const calls: string[] = [];
  const leaveA = onClose(closing, () => calls.push("a"));
  leaveA();
  const leaveB = onClose(closing, () => calls.push("b")); // takes a's slot
  leaveA(); // a second time: b stays
  const shared = () => calls.push("shared");
  onClose(closing, shared);
  onClose(closing, shared);
  // Churn: many come and go, a few stay.
  for (let i = 0; i < 1000; i++) {
    const leave = onClose(closing, () => calls.push(`gone-${i}`));
    if (i % 100 !== 0) leave();
  }
  closing.close();
  expect(calls.sort()).toEqual(
    [
      "b",
      "gone-0",
      "gone-100",
      "gone-200",
      "gone-300",
      "gone-400",
      "gone-500",
      "gone-600",
      "gone-700",
      "gone-800",
      "gone-900",
      "shared",
    ].sort(),
  );
  leaveB(); // after closing: nothing
  expect(calls.length).toBe(12);
});

test("the grace's waits are never negative, however the clock moves between readings", async () => {
  // A clock that moves on by 0.4 ms at every reading: read twice per wait, the last wait came
  // out below zero (Bun warns of a negative timeout on stderr).
  let t = 0;
  const clock = { now: () => (t += 0.4) };
  const waits: number[] = [];
  const setTimer = (fn: () => void, ms: number) => {
    waits.push(ms);
    queueMicrotask(fn);
    return () => {};
  };
  const { gateway, server, steps } = fakeGateway({ running: 1, queued: 0 });
  await drainAndStop({ gateway, server, graceMs: 3, pollMs: 1, logger: silentLogger(), clock, setTimer });
  expect(waits.length).toBeGreaterThan(0);
  expect(Math.min(...waits)).toBeGreaterThan(0);
  expect(steps).toEqual(["stop (running 1, queued 0)", "close (drain 2000)"]);
});
