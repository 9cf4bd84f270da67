import { afterAll, beforeAll, expect, test } from "bun:test";
import OpenAI from "openai";
import { type Stack, startStack } from "../helpers/stack.ts";

const CANARY = `
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: { name: opt-canary }
spec:
  poolRef: { group: inference.networking.k8s.io, kind: InferencePool, name: vllm-pool }
  rules:
    - matches: [{ model: { type: Exact, value: opt-stable } }]
      targets:
        - { modelRewrite: facebook/opt-125m, weight: 90 }
        - { modelRewrite: facebook/opt-125m-canary, weight: 10 }
`;

let stack: Stack;
beforeAll(async () => {
  const fast = { timeScale: 0.001, maxNumSeqs: 64 };
  stack = await startStack({
    pods: [
      { model: "facebook/opt-125m", ...fast },
      { model: "facebook/opt-125m-canary", ...fast },
    ],
    yaml: [CANARY],
    seed: 2024,
  });
});
afterAll(() => stack.close());

test("2,000 requests for a 90/10 alias split 90/10 on the pods' side (within three points)", async () => {
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: "unused", maxRetries: 0 });
  const total = 2000;
  let next = 0;
  const served = new Map<string, number>();
  const worker = async () => {
    while (next < total) {
      next++;
      const res = await client.chat.completions.create({
        model: "opt-stable",
        messages: [{ role: "user", content: `question ${next}` }],
        max_tokens: 1,
      });
      served.set(res.model, (served.get(res.model) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  const [stable, canary] = stack.pods.map((p) => p.simulator.stats().completed);
  expect(stable! + canary!).toBe(total);
  expect(Math.abs(canary! / total - 0.1)).toBeLessThan(0.03);
  // What clients were told matches what the pods did.
  expect(served.get("facebook/opt-125m-canary")).toBe(canary!);
  expect(served.get("facebook/opt-125m")).toBe(stable!);
}, 60_000);
