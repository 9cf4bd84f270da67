import { describe, expect, test } from "bun:test";
import type { FlowObserver } from "../../src/flow/control/index.ts";
import { harness, manualDetector, slotsDetector } from "./helpers.ts";

describe("dispatch without queueing", () => {
  test("room in the pool: admitted at once, no band, flow or timer is created", async () => {
    const h = harness({ saturation: slotsDetector(100) });
    const tickets = Array.from({ length: 50 }, (_, i) => h.submit(`t${i}`, { fairnessId: `tenant-${i}` }));
    await h.flush();
    expect(tickets.every((t) => t.state === "admitted")).toBe(true);
    expect(h.ctl.stats()).toEqual({
      queued: 0,
      queuedBytes: 0,
      dispatched: 50,
      shuttingDown: false,
      bands: [],
    });
    expect(h.time.pending).toBe(0);
    for (const t of tickets) h.done(t);
    expect(h.ctl.stats().dispatched).toBe(0);
  });

  test("a slot released twice decrements once", async () => {
    const h = harness();
    const t = h.submit("t");
    await h.flush();
    t.result?.slot.release("success");
    t.result?.slot.release("error");
    expect(h.ctl.stats().dispatched).toBe(0);
  });

  test("the controller's own count bounds a burst before the gateway's InFlight catches up", async () => {
    // The external InFlight says 0 (forward has not run yet); the controller counts its own grants.
    const h = harness({ saturation: slotsDetector(3), inflight: { total: () => 0, get: () => 0 } });
    for (let i = 0; i < 5; i++) h.submit(`t${i}`);
    await h.flush();
    expect(h.admitted).toEqual(["t0", "t1", "t2"]);
    expect(h.ctl.stats().queued).toBe(2);
  });

  test("idle means idle: no timers, and onCapacityChange on an empty queue does nothing", async () => {
    let calls = 0;
    const detector = {
      type: "count",
      name: "count",
      score: () => {
        calls++;
        return 0;
      },
    };
    const h = harness({ saturation: detector });
    h.ctl.onCapacityChange();
    expect(calls).toBe(0);
    expect(h.time.pending).toBe(0);
  });
});

describe("observe hooks", () => {
  test("queue size per flow, queue duration with outcome", async () => {
    const sizes: string[] = [];
    const durations: string[] = [];
    const observe: FlowObserver = {
      queueSize: (e) => sizes.push(`${e.priority}/${e.fairnessId}=${e.requests}:${e.bytes}`),
      queueDuration: (e) => durations.push(`${e.fairnessId}:${e.outcome}:${e.ms}`),
    };
    const detector = manualDetector(0);
    const h = harness({ observe, saturation: detector, config: { defaultRequestTTL: "1s" } });
    h.submit("now", { fairnessId: "a" });
    detector.value = 1;
    const q1 = h.submit("q1", { fairnessId: "b", bytes: 10 });
    h.submit("q2", { fairnessId: "b", bytes: 20 });
    await h.flush();
    h.time.advance(300);
    q1.abort.abort();
    h.time.advance(100);
    detector.value = 0;
    h.ctl.onCapacityChange();
    await h.flush();
    expect(sizes).toEqual(["0/b=1:10", "0/b=2:30", "0/b=1:20", "0/b=0:0"]);
    expect(durations).toEqual(["a:dispatched:0", "b:rejected-context-cancelled:300", "b:dispatched:400"]);
  });

  test("a throwing hook does not break the books", async () => {
    const boom = () => {
      throw new Error("metrics down");
    };
    const h = harness({ observe: { queueSize: boom, queueDuration: boom } });
    h.submit("a");
    const b = h.submit("b");
    await h.flush();
    await h.drain(5);
    expect(b.state).toBe("admitted");
    await h.drain(5);
    expect(h.ctl.stats()).toMatchObject({ queued: 0, dispatched: 0 });
  });
});
