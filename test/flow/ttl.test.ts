import { describe, expect, test } from "bun:test";
import { concurrencyDetector } from "../../plugins/flow/concurrency-detector.ts";
import { builtinFlowPolicies } from "../../plugins/flow/index.ts";
import { EndpointStore } from "../../src/endpoints/store.ts";
import { toErrorResponse } from "../../src/errors.ts";
import { createFlowController } from "../../src/flow/control/index.ts";
import { endpoint, FakeTime, harness, manualDetector } from "./helpers.ts";

describe("request TTL", () => {
  test("a request queued past its TTL gets 429 rejected-ttl-expired", async () => {
    const h = harness({ config: { defaultRequestTTL: "5s" } });
    h.submit("busy");
    const waiting = h.submit("waiting");
    await h.flush();
    h.time.advance(4999);
    await h.flush();
    expect(waiting.state).toBe("pending");
    h.time.advance(1);
    await h.flush();
    expect(waiting.state).toBe("rejected");
    expect(waiting.error?.status).toBe(429);
    expect(waiting.error?.droppedReason).toBe("rejected-ttl-expired");
    expect(waiting.error?.message).toContain("flowControl.defaultRequestTTL");
    const res = toErrorResponse(waiting.error);
    expect(res.headers.get("x-gateway-request-dropped-reason")).toBe("rejected-ttl-expired");
    expect(res.headers.get("retry-after")).toBe("1");
    const body = (await res.json()) as { error: { code: string; type: string } };
    expect(body.error).toMatchObject({ code: "rejected_ttl_expired", type: "rate_limit_error" });
    expect(h.ctl.stats()).toMatchObject({ queued: 0, queuedBytes: 0, dispatched: 1 });
    expect(h.time.pending).toBe(0);
  });

  test("the default TTL is 60 s", async () => {
    const h = harness();
    h.submit("busy");
    const w = h.submit("w");
    h.time.advance(59_999);
    await h.flush();
    expect(w.state).toBe("pending");
    h.time.advance(1);
    await h.flush();
    expect(w.error?.droppedReason).toBe("rejected-ttl-expired");
  });

  test("a dispatched request's timer is cancelled", async () => {
    const h = harness();
    h.submit("busy");
    const w = h.submit("w");
    await h.flush();
    expect(h.time.pending).toBe(1);
    await h.drain(1);
    expect(w.state).toBe("admitted");
    expect(h.time.pending).toBe(0);
    h.time.advance(120_000);
    await h.flush();
    expect(w.settledCount).toBe(1);
  });
});

describe("no endpoints", () => {
  test("an arrival with no endpoint in the pool gets 503 rejected-no-endpoints at once", async () => {
    const h = harness({ endpoints: [] });
    const t = h.submit("t");
    await h.flush();
    expect(t.error?.status).toBe(503);
    expect(t.error?.droppedReason).toBe("rejected-no-endpoints");
    expect(h.ctl.stats().bands).toEqual([]);
  });

  test("queued requests wait for endpoints to come back", async () => {
    const detector = manualDetector(2);
    const h = harness({ saturation: detector });
    const t = h.submit("t");
    await h.flush();
    h.endpoints.length = 0; // the only pod goes away (a rollout)
    h.time.advance(10_000);
    h.endpoints.push(endpoint("pod-b"));
    detector.value = 0;
    h.ctl.onCapacityChange();
    await h.flush();
    expect(t.state).toBe("admitted");
    expect(t.result?.admission.queuedMs).toBe(10_000);
  });

  test("at TTL expiry with the pool still empty the answer is 503, not 429", async () => {
    const h = harness({ saturation: manualDetector(2), config: { defaultRequestTTL: "1s" } });
    const t = h.submit("t");
    await h.flush();
    h.endpoints.length = 0;
    h.time.advance(1000);
    await h.flush();
    expect(t.error?.status).toBe(503);
    expect(t.error?.droppedReason).toBe("rejected-no-endpoints");
  });
});

test("an EndpointStore change wakes the queue (no polling)", async () => {
  const time = new FakeTime();
  const store = new EndpointStore();
  store.upsert([endpoint("a")]);
  const ctl = createFlowController({
    clock: time.clock,
    policies: builtinFlowPolicies(),
    setTimer: time.setTimer,
    priorityOf: () => 0,
    saturation: concurrencyDetector({ maxConcurrency: 1 }),
    endpoints: store,
  });
  const signal = new AbortController().signal;
  const req = { objective: undefined, fairnessId: "f", targetModel: "m", bytes: 1, signal };
  const first = await ctl.admit(req);
  let second: unknown;
  void ctl.admit(req).then((r) => {
    second = r;
  });
  for (let i = 0; i < 10; i++) await Promise.resolve();
  expect(second).toBeUndefined();
  store.upsert([endpoint("b")]); // capacity doubles: the store's onChange dispatches
  for (let i = 0; i < 10; i++) await Promise.resolve();
  expect(second).toBeDefined();
  first.slot.release("success");
  (second as typeof first).slot.release("success");
  ctl.shutdown();
  expect(ctl.stats()).toMatchObject({ queued: 0, dispatched: 0 });
});
