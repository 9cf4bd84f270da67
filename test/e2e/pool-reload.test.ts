import { afterEach, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/load.ts";
import { type Stack, startStack, waitFor } from "../helpers/stack.ts";

/**
 * A reload that adds one pool and removes another while requests run: every request the
 * gateway accepted ends with its answer (those queued in the removed pool's flow control
 * too), new requests for the removed pool's model get a 404 and the added pool serves.
 */
const pool = (name: string, app: string) => `
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: { name: ${name} }
spec: { selector: { matchLabels: { app: ${app} } }, targetPorts: [{ number: 8000 }] }
`;
/** Flow control on, each pool full at one request in flight: the rest wait at the gateway. */
const PICKER = `
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
featureGates: [flowControl]
plugins: [{ type: concurrency-detector, parameters: { maxConcurrency: 1 } }]
flowControl: { defaultRequestTTL: 60s }
`;
const OLD = "old-model";
const KEPT = "kept-model";
const NEW = "new-model";
const APPS = ["old", "kept", "new"];

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

function chat(s: Stack, model: string) {
  return fetch(`${s.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }], max_tokens: 4 }),
  });
}

test("adding and removing a pool while its requests run and queue loses none of them", async () => {
  const s = await startStack({
    pods: [
      { model: OLD, timeScale: 1, prefillOverheadMs: 20, interTokenMs: 20 },
      { model: KEPT, timeScale: 1, prefillOverheadMs: 20, interTokenMs: 20 },
      { model: NEW },
    ],
    podLabels: (i) => ({ app: APPS[i]! }),
    yaml: [pool("old", "old"), pool("kept", "kept"), PICKER],
  });
  stack = s;
  const { gateway } = s;
  expect(gateway.deps.pools.list().map((p) => p.name)).toEqual(["old", "kept"]);
  // Eight requests for the old pool: one runs, seven wait in its flow control.
  const running = Array.from({ length: 8 }, () => chat(s, OLD));
  const keptRunning = Array.from({ length: 3 }, () => chat(s, KEPT));
  const oldPool = gateway.deps.pools.get("old")!;
  await waitFor(() => (oldPool.flow?.stats().queued ?? 0) >= 5);

  const before = gateway.deps.config.current;
  const settings = {
    ...before.settings,
    apiVersion: "gateway.inference.dev/v1alpha1",
    kind: "GatewayConfig",
  };
  const next = parseConfig(
    [JSON.stringify(settings), pool("kept", "kept"), pool("new", "new"), PICKER].join("\n---\n"),
    "stack.yaml",
  );
  gateway.deps.config.swap(next);
  expect(gateway.deps.pools.list().map((p) => p.name)).toEqual(["kept", "new"]);

  // The removed pool's model is gone for new requests; the new pool serves at once.
  const refused = await chat(s, OLD);
  expect(refused.status).toBe(404);
  expect(((await refused.json()) as { error: { message: string } }).error.message).toContain("'old-model'");
  const added = await chat(s, NEW);
  expect(added.status).toBe(200);

  // Every request accepted before the reload gets its answer.
  const answers = await Promise.all([...running, ...keptRunning]);
  expect(answers.map((r) => r.status)).toEqual(Array(11).fill(200));
  for (const r of answers)
    expect(((await r.json()) as { model: string }).model).toMatch(/^(old|kept)-model$/);
  // Once drained, the removed pool stops (its queue is empty and nothing of it runs).
  expect(oldPool.flow?.stats().queued).toBe(0);
  expect(gateway.deps.pools.queued()).toBe(0);
});
