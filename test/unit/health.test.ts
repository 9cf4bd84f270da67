import { expect, test } from "bun:test";
import { PassiveHealth } from "../../src/endpoints/health.ts";
import { silentLogger } from "../../src/log.ts";
import { FakeTime } from "../helpers/fake-time.ts";

function tracker(opts: { probes?: boolean[]; window?: number; rate?: number; withProbe?: boolean } = {}) {
  const time = new FakeTime();
  const probes: string[] = [];
  const results = opts.probes ?? [];
  const h = new PassiveHealth({
    logger: silentLogger(),
    setTimer: time.setTimer,
    ejectAfterFailures: () => 3,
    ejectionMs: () => 1000,
    maxEjectionMs: () => 8000,
    failureWindow: () => opts.window ?? 0,
    maxFailureRate: () => opts.rate ?? 0.5,
    ...(opts.withProbe === false
      ? {}
      : {
          probe: async (name: string) => {
            probes.push(name);
            return results.shift() ?? true;
          },
        }),
  });
  return { h, probes, time };
}

const fail = (h: PassiveHealth, n: number, name = "a") => {
  for (let i = 0; i < n; i++) h.failure(name, "HTTP 500");
};

test("consecutive failures eject; a success in between resets the count", () => {
  const { h } = tracker();
  fail(h, 2);
  h.success("a");
  fail(h, 2);
  expect(h.isEjected("a")).toBe(false);
  expect(h.allHealthy).toBe(true);
  fail(h, 1);
  expect(h.isEjected("a")).toBe(true);
  expect(h.allHealthy).toBe(false);
  expect(h.ejected()).toEqual(["a"]);
  h.stop();
});

test("a pod failing every other answer never fails 3 in a row, but its failure rate ejects it", () => {
  const { h } = tracker({ window: 10, rate: 0.5 });
  for (let i = 0; i < 2; i++) {
    h.success("a");
    h.failure("a", "HTTP 500");
  }
  expect(h.isEjected("a")).toBe(false); // 4 answers: the window of 10 is not half full yet
  h.success("a");
  h.failure("a", "HTTP 500"); // 3 of 6 failed
  expect(h.isEjected("a")).toBe(true);
});

test("a pod failing 1 in 4 stays in (below the rate)", () => {
  const { h } = tracker({ window: 10, rate: 0.5 });
  for (let i = 0; i < 40; i++) {
    if (i % 4 === 0) h.failure("a", "HTTP 500");
    else h.success("a");
  }
  expect(h.isEjected("a")).toBe(false);
});

test("after the ejection a passing /health only puts it on probation: a failed answer ejects it again, for twice as long", async () => {
  const { h, time, probes } = tracker();
  fail(h, 3);
  await time.advanceAsync(999);
  expect(h.isEjected("a")).toBe(true);
  await time.advanceAsync(1);
  expect(probes).toEqual(["a"]);
  expect(h.stateOf("a")).toBe("probation");
  expect(h.allHealthy).toBe(true);
  h.failure("a", "HTTP 500"); // one real failure is enough on probation
  expect(h.isEjected("a")).toBe(true);
  await time.advanceAsync(1999);
  expect(h.isEjected("a")).toBe(true);
  await time.advanceAsync(1);
  expect(h.stateOf("a")).toBe("probation");
  h.success("a");
  expect(h.stateOf("a")).toBe("healthy");
  fail(h, 2);
  expect(h.isEjected("a")).toBe(false); // back in service: 3 in a row again
});

test("a failing probe keeps it out, each time longer, up to maxEjectionMs", async () => {
  const { h, time, probes } = tracker({ probes: [false, false, false, false, true] });
  fail(h, 3);
  // Ejections of 1, 2, 4, 8 and 8 s (capped): probes at 1, 3, 7, 15 and 23 s.
  for (const [at, count] of [
    [1000, 1],
    [3000, 2],
    [7000, 3],
    [15_000, 4],
    [22_999, 4],
    [23_000, 5],
  ] as const) {
    await time.advanceAsync(at - (time.clock.now() - 1000));
    expect(probes.length).toBe(count);
  }
  expect(h.stateOf("a")).toBe("probation");
});

test("without a probe the endpoint goes on probation when the ejection ends", async () => {
  const { h, time } = tracker({ withProbe: false });
  fail(h, 3);
  await time.advanceAsync(1000);
  expect(h.stateOf("a")).toBe("probation");
});

test("a full window of successes takes one step back in ejection length", async () => {
  const { h, time } = tracker({ window: 4, rate: 1 });
  fail(h, 3);
  await time.advanceAsync(1000);
  h.failure("a", "x"); // second ejection: 2 s
  await time.advanceAsync(2000);
  for (let i = 0; i < 4; i++) h.success("a"); // one step back: the next lasts 2 s, not 4 s
  fail(h, 3);
  await time.advanceAsync(1999);
  expect(h.isEjected("a")).toBe(true);
  await time.advanceAsync(1);
  expect(h.isEjected("a")).toBe(false);
});

test("answers to requests sent before the ejection do not change it", async () => {
  const { h, time } = tracker();
  fail(h, 3);
  h.success("a");
  fail(h, 5);
  await time.advanceAsync(1000);
  expect(h.stateOf("a")).toBe("probation");
});

test("removing an ejected endpoint forgets it and stops its probes", async () => {
  const { h, probes, time } = tracker();
  fail(h, 3);
  h.remove("a");
  expect(h.allHealthy).toBe(true);
  expect(time.pending).toBe(0);
  await time.advanceAsync(60_000);
  expect(probes).toEqual([]);
  h.stop();
});

test("every endpoint with a state is known, so the gateway can forget those that left", () => {
  const { h } = tracker();
  h.failure("a", "x");
  fail(h, 3, "b");
  expect(h.known().sort()).toEqual(["a", "b"]);
  h.remove("a");
  h.remove("b");
  expect(h.known()).toEqual([]);
  expect(h.allHealthy).toBe(true);
});
