import { afterEach, describe, expect, test } from "bun:test";
import type { FetchFn } from "../../src/deps.ts";
import { concurrencyPicker, objective, POOL } from "../helpers/config.ts";
import { chatAs, type Stack, startStack, waitFor } from "../helpers/stack.ts";

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const MODEL = "m";
const OBJECTIVES = [objective("critical", 10), objective("sheddable", -1)];

/** Flow control on, and the pool full at 2 requests in flight (exact, from the gateway's own counts). */
const picker = (...extra: string[]) =>
  concurrencyPicker(2, { flowControl: ["defaultRequestTTL: 30s", ...extra] });

function recordingFetch() {
  const order: string[] = [];
  const fetch: FetchFn = (url, init) => {
    if (url.endsWith("/completions")) {
      const body = JSON.parse(new TextDecoder().decode(init.body as Uint8Array));
      order.push(body.messages[0].content);
    }
    return globalThis.fetch(url, init);
  };
  return { order, fetch };
}

const send = (s: Stack, tag: string, objective?: string, signal?: AbortSignal) =>
  chatAs(s, objective, { model: MODEL, messages: [{ role: "user", content: tag }], max_tokens: 5 }, signal);

const slowPod = { model: MODEL, timeScale: 1, prefillOverheadMs: 30, interTokenMs: 10, maxNumSeqs: 8 };

describe("flow control through the gateway", () => {
  test("under saturation, critical requests are dispatched before sheddable ones that waited longer", async () => {
    const rec = recordingFetch();
    stack = await startStack({ pods: [slowPod], yaml: [POOL, ...OBJECTIVES, picker()], fetch: rec.fetch });
    const s = stack;
    const all: Promise<Response>[] = [send(s, "fill-1"), send(s, "fill-2")];
    await waitFor(() => s.gateway.deps.inflight.total() === 2);
    for (let i = 0; i < 4; i++) all.push(send(s, `shed-${i}`, "sheddable"));
    await waitFor(() => s.gateway.deps.flow!.stats().queued === 4);
    for (let i = 0; i < 3; i++) all.push(send(s, `crit-${i}`, "critical"));
    const statuses = await Promise.all(all.map(async (p) => (await p).status));
    expect(statuses.every((st) => st === 200)).toBe(true);
    const after = rec.order.slice(2);
    expect(after.slice(0, 3).sort()).toEqual(["crit-0", "crit-1", "crit-2"]);
    expect(after.slice(3)).toEqual(["shed-0", "shed-1", "shed-2", "shed-3"]);
    expect(s.gateway.deps.flow!.stats()).toMatchObject({ queued: 0, dispatched: 0 });
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toContain("inference_extension_flow_control_request_queue_duration_seconds_count");
    expect(metrics).toContain("inference_extension_flow_control_pool_saturation");
  }, 30_000);

  test("a burst between two scrapes fills each pod only to the README's thresholds; completions move the queue", async () => {
    const readmeGate = `
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
featureGates: [flowControl]
saturationDetector: { queueDepthThreshold: 2, kvCacheUtilThreshold: 0.8, metricsStalenessThreshold: 120s }
flowControl:
  defaultPriorityBand: { fairnessPolicyRef: round-robin-fairness-policy }`;
    stack = await startStack({
      pods: [slowPod, slowPod],
      yaml: [POOL, ...OBJECTIVES, readmeGate],
      // One scrape at start, then none during the test: the gate sees only its own sends.
      settings: { dataLayer: { scrapeIntervalMs: 60_000, stalenessMs: 120_000 } },
    });
    const s = stack;
    const { endpoints, inflight, flow } = s.gateway.deps;
    await waitFor(() => endpoints.list().every((e) => e.metrics.updatedAt > 0));
    const burst = Array.from({ length: 12 }, (_, i) => send(s, `burst-${i}`));
    await waitFor(() => flow!.stats().queued + flow!.stats().dispatched === 12);
    // Idle pods, queueDepthThreshold 2: two each (assumed waiting 0 → 1 → 2), the rest wait here.
    expect(endpoints.list().map((e) => inflight.get(e.name))).toEqual([2, 2]);
    expect(flow!.stats().queued).toBe(8);
    // No scrape comes; each answer frees its place at once and the next request takes it.
    const statuses = await Promise.all(burst.map(async (p) => (await p).status));
    expect(statuses.every((st) => st === 200)).toBe(true);
    expect(flow!.stats()).toMatchObject({ queued: 0, dispatched: 0 });
  }, 30_000);

  test("a client that leaves while queued is gone from the queue at once", async () => {
    stack = await startStack({ pods: [slowPod], yaml: [POOL, ...OBJECTIVES, picker()] });
    const s = stack;
    const fill = [send(s, "fill-1"), send(s, "fill-2")];
    await waitFor(() => s.gateway.deps.inflight.total() === 2);
    const ac = new AbortController();
    const queued = send(s, "leaver", undefined, ac.signal).catch(() => undefined);
    await waitFor(() => s.gateway.deps.flow!.stats().queued === 1);
    ac.abort();
    await waitFor(() => s.gateway.deps.flow!.stats().queued === 0);
    await queued;
    await Promise.all(fill);
    await waitFor(() => s.gateway.deps.flow!.stats().dispatched === 0);
  }, 30_000);

  test("a request that waits past its TTL gets 429 rejected-ttl-expired", async () => {
    const pod = { ...slowPod, prefillOverheadMs: 3000 };
    stack = await startStack({ pods: [pod], yaml: [POOL, ...OBJECTIVES, picker().replace("30s", "200ms")] });
    const s = stack;
    const fill = [send(s, "fill-1"), send(s, "fill-2")];
    await waitFor(() => s.gateway.deps.inflight.total() === 2);
    const res = await send(s, "late");
    expect(res.status).toBe(429);
    expect(res.headers.get("x-gateway-request-dropped-reason")).toBe("rejected-ttl-expired");
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe("rate_limit_error");
    await Promise.all(fill.map(async (p) => (await p).text()));
  }, 30_000);

  test("a full band rejects with 429 naming the limit", async () => {
    const extra = "defaultPriorityBand: { maxRequests: 1 }";
    stack = await startStack({ pods: [slowPod], yaml: [POOL, ...OBJECTIVES, picker(extra)] });
    const s = stack;
    const fill = [send(s, "fill-1"), send(s, "fill-2")];
    await waitFor(() => s.gateway.deps.inflight.total() === 2);
    const waiting = send(s, "waits");
    await waitFor(() => s.gateway.deps.flow!.stats().queued === 1);
    const rejected = await send(s, "no-room");
    expect(rejected.status).toBe(429);
    expect(rejected.headers.get("x-gateway-request-dropped-reason")).toBe("rejected-saturated");
    expect(rejected.headers.get("retry-after")).toBeTruthy();
    expect(((await rejected.json()) as { error: { message: string } }).error.message).toContain(
      "maxRequests",
    );
    expect((await waiting).status).toBe(200);
    await Promise.all(fill);
  }, 30_000);

  test("with flow control off, sheddable requests are shed with 429 when the pool is saturated; others go through", async () => {
    const gateOff = `
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
  - type: concurrency-detector
    parameters: { maxConcurrency: 2 }`;
    stack = await startStack({ pods: [slowPod], yaml: [POOL, ...OBJECTIVES, gateOff] });
    const s = stack;
    const fill = [send(s, "fill-1"), send(s, "fill-2")];
    await waitFor(() => s.gateway.deps.inflight.total() === 2);
    const shed = await send(s, "shed", "sheddable");
    expect(shed.status).toBe(429);
    expect(shed.headers.get("x-gateway-request-dropped-reason")).toBe("rejected-saturated");
    const normal = await send(s, "normal");
    expect(normal.status).toBe(200);
    await Promise.all(fill);
  }, 30_000);

  test("shutdown rejects what is queued with 503 rejected-shutting-down", async () => {
    stack = await startStack({
      pods: [{ ...slowPod, prefillOverheadMs: 2000 }],
      yaml: [POOL, ...OBJECTIVES, picker()],
    });
    const s = stack;
    const fill = [send(s, "fill-1"), send(s, "fill-2")];
    await waitFor(() => s.gateway.deps.inflight.total() === 2);
    const queued = send(s, "queued");
    await waitFor(() => s.gateway.deps.flow!.stats().queued === 1);
    s.gateway.deps.flow!.shutdown();
    const res = await queued;
    expect(res.status).toBe(503);
    expect(res.headers.get("x-gateway-request-dropped-reason")).toBe("rejected-shutting-down");
    await Promise.all(fill);
  }, 30_000);
});
