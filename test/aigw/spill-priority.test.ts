import { afterAll, beforeAll, expect, test } from "bun:test";
import { concurrencyPicker, objective, POOL } from "../helpers/config.ts";
import { chatAs, type Stack, startStack, waitFor } from "../helpers/stack.ts";
import { hostedDocs, makePki, startProvider, type TestPki } from "./provider.ts";

let pki: TestPki;
let provider: ReturnType<typeof startProvider>;

beforeAll(() => {
  pki = makePki();
  provider = startProvider(pki, { key: "sk-spill", name: "hosted" });
});
afterAll(() => provider.stop());

/** Flow control on; the pool is full at 2 requests in flight. */
const PICKER = concurrencyPicker(2, { flowControl: ["defaultRequestTTL: 30s"] });

/** The README's spill rule with spill-min-priority 5: only objectives of priority 5 and up may leave the pool. */
const ROUTE = `
apiVersion: aigateway.envoyproxy.io/v1beta1
kind: AIGatewayRoute
metadata:
  name: llama-with-overflow
  annotations:
    gateway.inference.dev/spill-after-ms: "0"
    gateway.inference.dev/spill-min-priority: "5"
spec:
  rules:
    - matches: [{ headers: [{ type: Exact, name: x-ai-eg-model, value: m }] }]
      backendRefs:
        - { name: pool, group: inference.networking.k8s.io, kind: InferencePool }
        - { name: hosted, priority: 1, modelNameOverride: gpt-4o-mini }`;

const send = (s: Stack, objectiveName?: string) =>
  chatAs(s, objectiveName, { model: "m", messages: [{ role: "user", content: "x" }], max_tokens: 20 });

test("spill-min-priority: an objective below it queues for the pool, one at or above it spills", async () => {
  const stack = await startStack({
    pods: [{ model: "m", timeScale: 1, prefillOverheadMs: 30, interTokenMs: 15, maxNumSeqs: 8 }],
    yaml: [
      POOL,
      PICKER,
      objective("standard", 1),
      objective("critical", 10),
      ...hostedDocs({ name: "hosted", port: provider.port, ca: pki.ca, key: "sk-spill" }),
      ROUTE,
    ],
  });
  try {
    const fills = [send(stack), send(stack)];
    await waitFor(() => stack.gateway.deps.inflight.total() === 2);
    const standard = send(stack, "standard");
    await waitFor(() => stack.gateway.deps.pools.first().flow!.stats().queued === 1);
    const critical = await send(stack, "critical");
    expect(critical.headers.get("x-gateway-spilled-to")).toBe("hosted");
    expect(((await critical.json()) as { model: string }).model).toBe("gpt-4o-mini");
    const served = await standard;
    expect(served.status).toBe(200);
    expect(served.headers.get("x-gateway-spilled-to")).toBeNull();
    expect(((await served.json()) as { model: string }).model).toBe("m");
    for (const f of fills) expect((await f).status).toBe(200);
    expect(provider.seen).toHaveLength(1);
  } finally {
    await stack.close();
  }
}, 30_000);
