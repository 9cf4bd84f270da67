import { afterAll, beforeAll, expect, test } from "bun:test";
import OpenAI from "openai";
import { type Stack, startStack } from "../helpers/stack.ts";

/**
 * Each pool's InferenceObjectives are its own (their poolRef): the same objective name
 * gives a request the priority its pool's document sets, and a name only another pool
 * defines gives the default priority 0, as GIE's endpoint picker of that pool would.
 * Checked through the request path (the official client, /metrics), not the config.
 */
const CHAT = "facebook/opt-125m";
const QWEN = "Qwen/Qwen3-8B";
const objective = (name: string, priority: number, pool: string) => `
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: { name: ${name} }
spec: { priority: ${priority}, poolRef: { name: ${pool} } }
`;
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    pods: [{ model: CHAT }, { model: QWEN }],
    podLabels: (i) => ({ app: i === 0 ? "opt" : "qwen" }),
    yaml: [
      ...["opt", "qwen"].map(
        (name) => `
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: { name: ${name} }
spec: { selector: { matchLabels: { app: ${name} } }, targetPorts: [{ number: 8000 }] }
`,
      ),
      objective("interactive", 10, "opt"),
      objective("interactive-q", 5, "qwen"),
      objective("batch", -1, "qwen"),
    ],
  });
});

afterAll(() => stack.close());

test("an objective applies in the pool its poolRef names, and is unknown (priority 0) in the others", async () => {
  const ask = (model: string, objectiveName: string) =>
    new OpenAI({
      baseURL: `${stack.url}/v1`,
      apiKey: "unused",
      maxRetries: 0,
      defaultHeaders: { "x-gateway-inference-objective": objectiveName },
    }).chat.completions.create({ model, messages: [{ role: "user", content: "hi" }], max_tokens: 2 });
  await ask(CHAT, "interactive");
  await ask(QWEN, "interactive");
  await ask(QWEN, "interactive-q");
  await ask(CHAT, "batch");
  const text = await (await fetch(`${stack.url}/metrics`)).text();
  const count = (model: string, priority: string) =>
    Number(
      text.match(
        new RegExp(
          `^inference_objective_request_total\\{model_name="${model.replace("/", "\\/")}",target_model_name="[^"]*",priority="${priority}"\\} (\\S+)$`,
          "m",
        ),
      )?.[1] ?? 0,
    );
  expect(count(CHAT, "10")).toBe(1);
  expect(count(CHAT, "0")).toBe(1); // "batch" is the qwen pool's
  expect(count(QWEN, "5")).toBe(1);
  expect(count(QWEN, "0")).toBe(1); // "interactive" is the opt pool's
  expect(count(QWEN, "10")).toBe(0);
});
