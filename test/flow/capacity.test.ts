import { describe, expect, test } from "bun:test";
import { toErrorResponse } from "../../src/errors.ts";
import { harness } from "./helpers.ts";

const priorities = { high: 10, low: -1 };

/** A harness whose one slot is taken, so every later request queues. */
async function busy(config: unknown) {
  const h = harness({ config, priorities });
  h.submit("busy");
  await h.flush();
  return h;
}

describe("band capacity", () => {
  test("maxRequests: the next request gets 429 rejected-saturated naming the setting", async () => {
    const h = await busy({ defaultPriorityBand: { maxRequests: 3 } });
    const queued = [1, 2, 3].map((i) => h.submit(`q${i}`));
    const over = h.submit("over");
    await h.flush();
    expect(queued.map((t) => t.state)).toEqual(["pending", "pending", "pending"]);
    expect(over.error?.status).toBe(429);
    expect(over.error?.droppedReason).toBe("rejected-saturated");
    expect(over.error?.message).toContain("flowControl.defaultPriorityBand.maxRequests");
    expect(over.error?.message).toContain("maxRequests=3");
    const res = toErrorResponse(over.error);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(res.headers.get("x-gateway-request-dropped-reason")).toBe("rejected-saturated");
  });

  test("maxBytes per band, and a listed band's own limit", async () => {
    const h = await busy({ priorityBands: [{ priority: 10, maxBytes: "1k" }] });
    const a = h.submit("a", { objective: "high", bytes: 600 });
    const b = h.submit("b", { objective: "high", bytes: 600 });
    const c = h.submit("c", { objective: "high", bytes: 400 });
    const other = h.submit("other", { bytes: 600 }); // band 0 has the 1 GB default
    await h.flush();
    expect([a.state, b.state, c.state, other.state]).toEqual(["pending", "rejected", "pending", "pending"]);
    expect(b.error?.message).toContain("flowControl.priorityBands[0].maxBytes");
    expect(h.ctl.stats().bands.map((x) => [x.priority, x.bytes])).toEqual([
      [10, 1000],
      [0, 600],
    ]);
  });

  test("a body larger than the band's maxBytes says so", async () => {
    const h = await busy({ defaultPriorityBand: { maxBytes: 100 } });
    const t = h.submit("t", { bytes: 101 });
    await h.flush();
    expect(t.error?.message).toContain("exceeds the queue limit");
  });

  test("limits apply to queued requests only: immediate dispatch is not counted", async () => {
    const h = harness({ config: { defaultPriorityBand: { maxRequests: 1, maxBytes: 10 } } });
    const t = h.submit("big", { bytes: 1_000_000 });
    await h.flush();
    expect(t.state).toBe("admitted");
  });
});

describe("global capacity", () => {
  test("maxRequests across bands", async () => {
    const h = await busy({ maxRequests: 2 });
    h.submit("a");
    h.submit("b", { objective: "low" });
    const c = h.submit("c", { objective: "low" });
    await h.flush();
    expect(c.error?.droppedReason).toBe("rejected-saturated");
    expect(c.error?.message).toContain("flowControl.maxRequests");
  });

  test("maxBytes across bands", async () => {
    const h = await busy({ maxBytes: 1000 });
    h.submit("a", { bytes: 500 });
    const b = h.submit("b", { bytes: 600 });
    const c = h.submit("c", { bytes: 500 });
    await h.flush();
    expect(b.error?.message).toContain("flowControl.maxBytes");
    expect(c.state).toBe("pending");
  });

  test("a higher-priority arrival evicts the newest lower-priority requests", async () => {
    const h = await busy({ maxRequests: 3 });
    const old = h.submit("low-old", { objective: "low" });
    const mid = h.submit("std");
    const young = h.submit("low-young", { objective: "low" });
    const high = h.submit("high", { objective: "high" });
    await h.flush();
    expect(high.state).toBe("pending");
    expect(young.error?.status).toBe(429);
    expect(young.error?.droppedReason).toBe("evicted");
    expect(old.state).toBe("pending");
    expect(mid.state).toBe("pending");
    expect(h.ctl.stats().queued).toBe(3);
    await h.drain(10);
    expect(h.admitted).toEqual(["busy", "high", "std", "low-old"]);
  });

  test("eviction by bytes takes as many as needed, and nothing when it cannot suffice", async () => {
    const h = await busy({ maxBytes: 1000 });
    const l1 = h.submit("l1", { objective: "low", bytes: 300 });
    const l2 = h.submit("l2", { objective: "low", bytes: 300 });
    const s = h.submit("s", { bytes: 400 });
    const tooBig = h.submit("too-big", { objective: "high", bytes: 1001 });
    await h.flush();
    expect(tooBig.error?.droppedReason).toBe("rejected-saturated");
    expect([l1.state, l2.state, s.state]).toEqual(["pending", "pending", "pending"]);
    const high = h.submit("high", { objective: "high", bytes: 550 });
    await h.flush();
    expect(high.state).toBe("pending");
    expect(l2.error?.droppedReason).toBe("evicted");
    expect(l1.error?.droppedReason).toBe("evicted");
    expect(s.state).toBe("pending");
    expect(h.ctl.stats()).toMatchObject({ queued: 2, queuedBytes: 950 });
  });

  test("equal priority never evicts", async () => {
    const h = await busy({ maxRequests: 1 });
    const a = h.submit("a");
    const b = h.submit("b");
    await h.flush();
    expect(a.state).toBe("pending");
    expect(b.error?.droppedReason).toBe("rejected-saturated");
  });
});
