import { describe, expect, test } from "bun:test";
import { endpoint, harness } from "./helpers.ts";

describe("per-band defaultRequestTTL (llm-d v0.10)", () => {
  const config = {
    defaultRequestTTL: "60s",
    priorityBands: [
      { priority: 1, defaultRequestTTL: "2s" },
      { priority: 2, defaultRequestTTL: "0s" },
    ],
  };
  const priorities = { fast: 1, forever: 2 };

  test("a band's own TTL applies to its requests; others keep the global one", async () => {
    const h = harness({ config, priorities });
    h.submit("busy", { objective: "forever" });
    const fast = h.submit("fast", { objective: "fast" });
    const plain = h.submit("plain");
    await h.flush();
    h.time.advance(1999);
    await h.flush();
    expect(fast.state).toBe("pending");
    h.time.advance(1);
    await h.flush();
    expect(fast.error?.droppedReason).toBe("rejected-ttl-expired");
    expect(fast.error?.message).toContain("flowControl.priorityBands[0].defaultRequestTTL");
    expect(fast.error?.message).toContain("TTL 2000 ms");
    expect(plain.state).toBe("pending");
    h.time.advance(58_000);
    await h.flush();
    expect(plain.error?.droppedReason).toBe("rejected-ttl-expired");
    expect(plain.error?.message).toContain("raise flowControl.defaultRequestTTL");
  });

  test('a band with "0s" waits past the global TTL (no TTL)', async () => {
    const h = harness({ config, priorities });
    h.submit("busy");
    const forever = h.submit("forever", { objective: "forever" });
    await h.flush();
    h.time.advance(600_000);
    await h.flush();
    expect(forever.state).toBe("pending");
    await h.drain(1);
    expect(forever.state).toBe("admitted");
  });

  test("defaultPriorityBand and defaultNegativePriorityBand carry a TTL for unlisted priorities", async () => {
    const h = harness({
      config: {
        defaultRequestTTL: "60s",
        defaultPriorityBand: { defaultRequestTTL: "5s" },
        defaultNegativePriorityBand: { defaultRequestTTL: "1s" },
      },
      priorities: { low: -3, mid: 7 },
    });
    h.submit("busy");
    const low = h.submit("low", { objective: "low" });
    const mid = h.submit("mid", { objective: "mid" });
    await h.flush();
    h.time.advance(1000);
    await h.flush();
    expect(low.error?.message).toContain("flowControl.defaultNegativePriorityBand.defaultRequestTTL");
    expect(mid.state).toBe("pending");
    h.time.advance(4000);
    await h.flush();
    expect(mid.error?.message).toContain("flowControl.defaultPriorityBand.defaultRequestTTL");
  });
});

describe("noEndpointRequestTTL", () => {
  test("with it set, an arrival to an empty pool waits for an endpoint and is admitted", async () => {
    const h = harness({ endpoints: [], config: { noEndpointRequestTTL: "5m", defaultRequestTTL: "1s" } });
    const t = h.submit("t");
    await h.flush();
    expect(t.state).toBe("pending");
    h.time.advance(120_000); // past defaultRequestTTL: the no-endpoint budget applies
    await h.flush();
    expect(t.state).toBe("pending");
    h.endpoints.push(endpoint("pod-a"));
    h.ctl.onCapacityChange();
    await h.flush();
    expect(t.state).toBe("admitted");
    expect(t.result?.admission.queuedMs).toBe(120_000);
    expect(h.time.pending).toBe(0);
  });

  test("with no endpoint by its expiry the answer is 503 rejected-no-endpoints naming the setting", async () => {
    const h = harness({ endpoints: [], config: { noEndpointRequestTTL: "30s" } });
    const t = h.submit("t");
    await h.flush();
    h.time.advance(29_999);
    await h.flush();
    expect(t.state).toBe("pending");
    h.time.advance(1);
    await h.flush();
    expect(t.error?.status).toBe(503);
    expect(t.error?.droppedReason).toBe("rejected-no-endpoints");
    expect(h.ctl.stats()).toMatchObject({ queued: 0, queuedBytes: 0 });
  });

  test("if an endpoint appears but never has room, expiry is 429 naming noEndpointRequestTTL", async () => {
    const h = harness({ endpoints: [], config: { noEndpointRequestTTL: "10s" } });
    const t = h.submit("t");
    await h.flush();
    h.endpoints.push(endpoint("pod-a")); // no capacity change is signalled: t stays queued
    h.time.advance(10_000);
    await h.flush();
    expect(t.error?.status).toBe(429);
    expect(t.error?.droppedReason).toBe("rejected-ttl-expired");
    expect(t.error?.message).toContain("flowControl.noEndpointRequestTTL");
  });

  test("the client leaving while it waits for an endpoint ends its wait (499)", async () => {
    const h = harness({ endpoints: [], config: { noEndpointRequestTTL: "5m" } });
    const t = h.submit("t");
    await h.flush();
    t.abort.abort();
    await h.flush();
    expect(t.error?.droppedReason).toBe("rejected-context-cancelled");
    expect(h.time.pending).toBe(0);
  });
});
