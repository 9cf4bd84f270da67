import { describe, expect, test } from "bun:test";
import { harness } from "./helpers.ts";

describe("client disconnect while queued", () => {
  test("the request leaves the queue at once with 499 rejected-context-cancelled", async () => {
    const h = harness();
    h.submit("busy");
    const t = h.submit("t", { bytes: 123 });
    await h.flush();
    expect(h.ctl.stats()).toMatchObject({ queued: 1, queuedBytes: 123 });
    h.time.advance(40);
    t.abort.abort();
    expect(h.ctl.stats()).toMatchObject({ queued: 0, queuedBytes: 0 }); // synchronously
    expect(h.time.pending).toBe(0); // its TTL timer is gone
    await h.flush();
    expect(t.error?.status).toBe(499);
    expect(t.error?.droppedReason).toBe("rejected-context-cancelled");
    expect(t.settledCount).toBe(1);
  });

  test("the freed spot is usable right away", async () => {
    const h = harness({ config: { defaultPriorityBand: { maxRequests: 1 } } });
    h.submit("busy");
    const a = h.submit("a");
    const b = h.submit("b");
    await h.flush();
    expect(b.error?.droppedReason).toBe("rejected-saturated");
    a.abort.abort();
    const c = h.submit("c");
    await h.flush();
    expect(c.state).toBe("pending");
    await h.drain(5);
    expect(h.admitted).toEqual(["busy", "c"]);
  });

  test("an already-aborted request is never queued", async () => {
    const h = harness();
    h.submit("busy");
    const controller = new AbortController();
    controller.abort();
    const t = h.submit("t", { signal: controller.signal });
    await h.flush();
    expect(t.error?.droppedReason).toBe("rejected-context-cancelled");
    expect(h.ctl.stats().bands).toEqual([]);
  });

  test("aborting after dispatch does not touch flow control; the slot is released by the scope", async () => {
    const h = harness();
    const t = h.submit("t");
    await h.flush();
    t.abort.abort();
    expect(h.ctl.stats().dispatched).toBe(1);
    t.result?.slot.release("aborted");
    expect(h.ctl.stats().dispatched).toBe(0);
  });

  test("cancelling the only request of a flow removes the flow", async () => {
    const h = harness();
    h.submit("busy");
    const t = h.submit("t", { fairnessId: "tenant-1" });
    await h.flush();
    expect(h.ctl.stats().bands[0]?.flows).toEqual([{ fairnessId: "tenant-1", requests: 1, bytes: 100 }]);
    t.abort.abort();
    expect(h.ctl.stats().bands[0]?.flows).toEqual([]);
  });
});
