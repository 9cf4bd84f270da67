import { describe, expect, test } from "bun:test";
import { harness, manualDetector } from "./helpers.ts";

const priorities = { critical: 10, standard: 0, sheddable: -1 };

describe("strict priority between bands", () => {
  test("a lower band is never dispatched while a higher one waits", async () => {
    const h = harness({ priorities });
    const first = h.submit("first");
    await h.flush();
    expect(first.state).toBe("admitted"); // the pool had room
    // Saturated now: everything queues, low first, interleaved arrivals.
    for (let i = 0; i < 5; i++) {
      h.submit(`low#${i}`, { objective: "sheddable" });
      h.submit(`std#${i}`, { objective: "standard" });
      h.submit(`high#${i}`, { objective: "critical" });
    }
    await h.drain(100);
    const bands = h.admitted.slice(1).map((t) => t.split("#")[0]);
    expect(bands).toEqual([...Array(5).fill("high"), ...Array(5).fill("std"), ...Array(5).fill("low")]);
    expect(h.ctl.stats()).toMatchObject({ queued: 0, queuedBytes: 0, dispatched: 0 });
  });

  test("a high-priority arrival goes ahead of queued low-priority work", async () => {
    const h = harness({ priorities });
    const running = h.submit("running");
    await h.flush();
    h.submit("low#1", { objective: "sheddable" });
    h.submit("low#2", { objective: "sheddable" });
    await h.flush();
    h.submit("high#1", { objective: "critical" });
    await h.flush();
    expect(h.admitted).toEqual(["running"]);
    h.done(running);
    await h.drain(10);
    expect(h.admitted).toEqual(["running", "high#1", "low#1", "low#2"]);
  });

  test("with room in the pool, a higher band is admitted at once even while a lower band queues", async () => {
    const detector = manualDetector(0.9);
    const h = harness({
      priorities,
      saturation: detector,
      config: { priorityBands: [{ priority: -1, ceiling: 0.8 }] },
    });
    const low = h.submit("low", { objective: "sheddable" });
    const std = h.submit("std", { objective: "standard" });
    await h.flush();
    expect(low.state).toBe("pending"); // 0.9 >= its ceiling 0.8
    expect(std.state).toBe("admitted"); // 0.9 < default ceiling 1.0
    expect(std.result?.admission).toEqual({ priority: 0, fairnessId: "default-flow", queuedMs: 0 });
    detector.value = 0.5;
    h.ctl.onCapacityChange();
    await h.flush();
    expect(low.state).toBe("admitted");
    expect(low.result?.admission.priority).toBe(-1);
  });

  test("a band waiting on its ceiling blocks lower bands with higher ceilings", async () => {
    const detector = manualDetector(0.9);
    const h = harness({
      priorities,
      saturation: detector,
      config: { priorityBands: [{ priority: 10, ceiling: 0.8 }] },
    });
    const high = h.submit("high", { objective: "critical" });
    const std = h.submit("std", { objective: "standard" });
    await h.flush();
    expect(high.state).toBe("pending");
    expect(std.state).toBe("pending");
    detector.value = 0.7;
    h.ctl.onCapacityChange();
    await h.flush();
    expect(h.admitted).toEqual(["high", "std"]);
  });

  test("bands are created on demand, one per distinct priority, highest first", async () => {
    const h = harness({ priorities: { a: 3, b: 7, c: -5 } });
    h.submit("x");
    await h.flush();
    expect(h.ctl.stats().bands).toEqual([]);
    for (const o of ["a", "b", "c", "a"]) h.submit(o, { objective: o });
    await h.flush();
    expect(h.ctl.stats().bands.map((b) => [b.priority, b.requests])).toEqual([
      [7, 1],
      [3, 2],
      [-5, 1],
    ]);
  });

  test("queuedMs reports time spent waiting", async () => {
    const h = harness();
    const a = h.submit("a");
    const b = h.submit("b");
    await h.flush();
    h.time.advance(250);
    h.done(a);
    await h.flush();
    expect(b.result?.admission.queuedMs).toBe(250);
  });
});
