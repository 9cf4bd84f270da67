import { describe, expect, test } from "bun:test";
import { harness } from "./helpers.ts";

describe("shutdown", () => {
  test("every queued request gets 503 rejected-shutting-down, and so do later ones", async () => {
    const h = harness({ priorities: { low: -1 } });
    const busy = h.submit("busy");
    const queued = [h.submit("a"), h.submit("b", { fairnessId: "x" }), h.submit("c", { objective: "low" })];
    await h.flush();
    h.ctl.shutdown();
    expect(h.ctl.stats()).toMatchObject({ queued: 0, queuedBytes: 0, shuttingDown: true, dispatched: 1 });
    expect(h.time.pending).toBe(0);
    const later = h.submit("later");
    await h.flush();
    for (const t of [...queued, later]) {
      expect(t.error?.status).toBe(503);
      expect(t.error?.droppedReason).toBe("rejected-shutting-down");
    }
    // In-flight work finishes normally and gives its slot back.
    h.done(busy);
    expect(h.ctl.stats().dispatched).toBe(0);
    h.ctl.shutdown(); // idempotent
  });

  test("aborts and timers after shutdown are no-ops", async () => {
    const h = harness();
    h.submit("busy");
    const t = h.submit("t");
    await h.flush();
    h.ctl.shutdown();
    t.abort.abort();
    h.time.advance(120_000);
    await h.flush();
    expect(t.settledCount).toBe(1);
    expect(t.error?.droppedReason).toBe("rejected-shutting-down");
  });
});
