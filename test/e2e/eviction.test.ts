import { afterEach, expect, test } from "bun:test";
import { concurrencyPicker } from "../helpers/config.ts";
import { chatAs, type Stack, startStack, waitFor } from "../helpers/stack.ts";

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const MODEL = "m";
const YAML = [
  `
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: { name: pool }
spec: { selector: { matchLabels: { app: sim } }, targetPorts: [{ number: 8000 }] }`,
  `
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: { name: critical }
spec: { priority: 10, poolRef: { name: pool } }`,
  `
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: { name: sheddable }
spec: { priority: -1, poolRef: { name: pool } }`,
  concurrencyPicker(1, { flowControl: ["defaultRequestTTL: 30s", "enableEviction: true"] }),
];

/** A pod that takes ~5 s for 500 tokens: the sheddable request is still running when critical arrives. */
const slowPod = { model: MODEL, timeScale: 1, prefillOverheadMs: 5, interTokenMs: 10, maxNumSeqs: 8 };

const send = (s: Stack, objective: string, maxTokens: number, stream = false) =>
  chatAs(s, objective, {
    model: MODEL,
    messages: [{ role: "user", content: objective }],
    max_tokens: maxTokens,
    ignore_eos: true,
    stream,
  });

test("a streaming sheddable request is evicted for a waiting critical one: SSE error event, pod request aborted, slot released once", async () => {
  stack = await startStack({ pods: [slowPod], yaml: YAML });
  const s = stack;
  const shed = await send(s, "sheddable", 500, true);
  expect(shed.status).toBe(200);
  const reader = shed.body!.getReader();
  await reader.read(); // the stream has started
  expect(s.pods[0]!.simulator.stats().running).toBe(1);
  const critical = send(s, "critical", 3);
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  expect(text).toContain('"code":"evicted"');
  expect(text).toContain("flowControl.enableEviction");
  const res = await critical;
  expect(res.status).toBe(200);
  await waitFor(() => s.gateway.deps.inflight.total() === 0);
  await waitFor(() => s.pods[0]!.simulator.stats().running === 0);
  // The pod's request was aborted, not run to its 500 tokens.
  expect(s.pods[0]!.simulator.stats()).toMatchObject({ aborted: 1, completed: 1 });
  expect(s.gateway.deps.flow!.stats()).toMatchObject({ queued: 0, dispatched: 0 });
});

test("a non-streaming sheddable request evicted before its answer gets 429 evicted with the dropped-reason header", async () => {
  stack = await startStack({ pods: [slowPod], yaml: YAML });
  const s = stack;
  const shed = send(s, "sheddable", 500);
  await waitFor(() => s.pods[0]!.simulator.stats().running === 1);
  const critical = send(s, "critical", 3);
  const res = await shed;
  expect(res.status).toBe(429);
  expect(res.headers.get("x-gateway-request-dropped-reason")).toBe("evicted");
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe("evicted");
  expect((await critical).status).toBe(200);
  await waitFor(() => s.pods[0]!.simulator.stats().running === 0);
  expect(s.pods[0]!.simulator.stats()).toMatchObject({ aborted: 1, completed: 1 });
  await waitFor(() => s.gateway.deps.inflight.total() === 0);
  expect(s.gateway.deps.flow!.stats()).toMatchObject({ queued: 0, dispatched: 0 });
});
