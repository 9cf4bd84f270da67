import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { concurrencyPicker, objective, POOL } from "../helpers/config.ts";
import { chatAs, type Stack, startStack, waitFor } from "../helpers/stack.ts";
import { hostedDocs, makePki, metric, startProvider, type TestPki } from "./provider.ts";

let pki: TestPki;
let provider: ReturnType<typeof startProvider>;
let stack: Stack | undefined;

beforeAll(() => {
  pki = makePki();
  provider = startProvider(pki, { key: "sk-spill", name: "hosted" });
});
afterAll(() => provider.stop());
afterEach(async () => {
  await stack?.close();
  stack = undefined;
  provider.seen.length = 0;
});

const MODEL = "m";
const OBJECTIVES = [objective("critical", 10), objective("sheddable", -1)];

/** Flow control on; the pool is full at 2 requests in flight (the gateway's own counts). */
const PICKER = concurrencyPicker(2, { flowControl: ["defaultRequestTTL: 30s"] });

/** Pool first; the hosted backend at priority 1 with a model override is the spill target. */
const route = (spillAfterMs: number) => `
apiVersion: aigateway.envoyproxy.io/v1beta1
kind: AIGatewayRoute
metadata:
  name: pool-first
  annotations: { gateway.inference.dev/spill-after-ms: "${spillAfterMs}" }
spec:
  rules:
    - matches: [{ headers: [{ type: Exact, name: x-ai-eg-model, value: ${MODEL} }] }]
      backendRefs:
        - { name: pool, group: inference.networking.k8s.io, kind: InferencePool }
        - { name: hosted, priority: 1, modelNameOverride: gpt-4o-mini }`;

const docs = (spillAfterMs: number) => [
  POOL,
  PICKER,
  ...OBJECTIVES,
  ...hostedDocs({ name: "hosted", port: provider.port, ca: pki.ca, key: "sk-spill" }),
  route(spillAfterMs),
];

const send = (s: Stack, tag: string, objective?: string) =>
  chatAs(s, objective, { model: MODEL, messages: [{ role: "user", content: tag }], max_tokens: 20 });

const slowPod = { model: MODEL, timeScale: 1, prefillOverheadMs: 30, interTokenMs: 15, maxNumSeqs: 8 };

describe("pool first, then spill", () => {
  test("a saturated pool: interactive requests spill at once (budget 0) with the override; sheddable ones queue for the pool", async () => {
    stack = await startStack({ pods: [slowPod], yaml: docs(0) });
    const s = stack;
    const fills = [send(s, "fill-1"), send(s, "fill-2")];
    await waitFor(() => s.gateway.deps.inflight.total() === 2);
    const spilled = await send(s, "interactive");
    expect(spilled.status).toBe(200);
    expect(spilled.headers.get("x-gateway-spilled-to")).toBe("hosted");
    const body = (await spilled.json()) as { model: string; choices: { message: { content: string } }[] };
    expect(body.model).toBe("gpt-4o-mini");
    expect(body.choices[0]!.message.content).toBe("from hosted");
    expect(provider.seen).toHaveLength(1);
    expect(provider.seen[0]!.body["model"]).toBe("gpt-4o-mini");
    // Sheddable: never spills; it waits in the pool's queue and the pool serves it.
    const shed = send(s, "sheddable", "sheddable");
    await waitFor(() => s.gateway.deps.pools.first().flow!.stats().queued === 1);
    const served = await shed;
    expect(served.status).toBe(200);
    expect(served.headers.get("x-gateway-spilled-to")).toBeNull();
    expect(((await served.json()) as { model: string }).model).toBe(MODEL);
    for (const f of fills) expect((await f).status).toBe(200);
    expect(provider.seen).toHaveLength(1);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(
      metric(
        metrics,
        'gateway_spillover_total{inference_pool="pool",backend="hosted",reason="queue_budget"}',
      ),
    ).toBe(1);
    const log = s.gateway.deps.recent.since(0).items.find((r) => (r as { spilled_to?: string }).spilled_to);
    expect(log).toMatchObject({ spilled_to: "hosted", endpoint: "backend/hosted", status: 200 });
  }, 30_000);

  test("a streamed interactive request spills as a stream, with usage accounted for the backend", async () => {
    stack = await startStack({ pods: [slowPod], yaml: docs(0) });
    const s = stack;
    const fills = [send(s, "fill-1"), send(s, "fill-2")];
    await waitFor(() => s.gateway.deps.inflight.total() === 2);
    const res = await fetch(`${s.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: MODEL, stream: true, messages: [{ role: "user", content: "x" }] }),
    });
    expect(res.headers.get("x-gateway-spilled-to")).toBe("hosted");
    const text = await res.text();
    expect(text).toContain('"content":"from hosted"');
    expect(text).not.toContain('"usage"'); // asked for by the gateway, not by the client
    expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
    for (const f of fills) await f;
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metric(metrics, 'gateway_backend_tokens_total{backend="hosted",type="output"}')).toBe(3);
  }, 30_000);

  test("within the budget the pool serves: a request granted before the budget ends never spills", async () => {
    stack = await startStack({ pods: [slowPod], yaml: docs(60_000) });
    const s = stack;
    const fills = [send(s, "fill-1"), send(s, "fill-2")];
    await waitFor(() => s.gateway.deps.inflight.total() === 2);
    const waiting = send(s, "interactive", "critical");
    await waitFor(() => s.gateway.deps.pools.first().flow!.stats().queued === 1);
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(res.headers.get("x-gateway-spilled-to")).toBeNull();
    for (const f of fills) await f;
    expect(provider.seen).toHaveLength(0);
  }, 30_000);

  test("every pod failing before the first byte spills an interactive request; a sheddable one gets the pool's error", async () => {
    const dead = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
    const deadPort = dead.port;
    dead.stop(true);
    stack = await startStack({
      pods: [{ model: "other" }],
      settings: { endpoints: [{ name: "dead", address: `127.0.0.1:${deadPort}`, models: [MODEL] }] },
      yaml: [
        POOL,
        ...OBJECTIVES,
        ...hostedDocs({ name: "hosted", port: provider.port, ca: pki.ca, key: "sk-spill" }),
        route(200),
      ],
    });
    const s = stack;
    const res = await send(s, "interactive");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-gateway-spilled-to")).toBe("hosted");
    expect(provider.seen).toHaveLength(1);
    const shed = await send(s, "sheddable", "sheddable");
    // The pool's own refusal (no endpoint could answer, or saturated once the pod is ejected).
    expect([429, 503]).toContain(shed.status);
    expect(provider.seen).toHaveLength(1);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(
      metric(metrics, 'gateway_spillover_total{inference_pool="pool",backend="hosted",reason="pool_failed"}'),
    ).toBe(1);
  }, 30_000);
});

test("a pool rule's timeouts.request answers 504 when the pod has not answered in time", async () => {
  stack = await startStack({
    pods: [{ ...slowPod, interTokenMs: 200 }],
    yaml: [
      POOL,
      `
apiVersion: aigateway.envoyproxy.io/v1beta1
kind: AIGatewayRoute
metadata: { name: bounded }
spec:
  rules:
    - backendRefs: [{ name: pool, group: inference.networking.k8s.io, kind: InferencePool }]
      timeouts: { request: 300ms }`,
    ],
  });
  const res = await send(stack, "slow");
  expect(res.status).toBe(504);
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe("route_timeout");
});
