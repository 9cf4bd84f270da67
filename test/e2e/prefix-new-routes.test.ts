import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Stack, startStack } from "../helpers/stack.ts";

/**
 * Prefix scoring reads each API's prompt (docs/routes.md): a long shared preamble sent
 * as Anthropic's `system` or the Responses API's `instructions` is found in the prefix
 * index (the hit ratio the indexer reports rises) and keeps landing on the pod that
 * already prefilled it, as a chat's system message does.
 */
const MODEL = "facebook/opt-125m";
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    pods: [{ model: MODEL }, { model: MODEL }, { model: MODEL }],
    settings: { endpointServedHeader: true },
  });
});

afterAll(() => stack.close());

const preamble = (tag: string) =>
  `${tag}: ${Array.from({ length: 400 }, (_, i) => `rule ${i} of the house style`).join(", ")}`;

/** Sum of the prefix indexer's hit ratios observed so far. */
async function hitRatioSum(): Promise<number> {
  const text = await (await fetch(`${stack.url}/metrics`)).text();
  return Number(text.match(/^inference_extension_prefix_indexer_hit_ratio_sum(?:\{\})? (\S+)$/m)?.[1] ?? 0);
}

async function podsFor(path: string, body: (i: number) => Record<string, unknown>): Promise<Set<string>> {
  const before = await hitRatioSum();
  const pods = new Set<string>();
  for (let i = 0; i < 6; i++) {
    const res = await fetch(`${stack.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: MODEL, ...body(i) }),
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    pods.add(res.headers.get("x-gateway-destination-endpoint-served") ?? "");
  }
  // Five of six requests find most of their prompt already indexed.
  expect((await hitRatioSum()) - before).toBeGreaterThan(4);
  return pods;
}

test("/v1/messages: a shared system prompt stays on one pod", async () => {
  const system = preamble("messages");
  const pods = await podsFor("/v1/messages", (i) => ({
    system,
    max_tokens: 1,
    messages: [{ role: "user", content: `question ${i}` }],
  }));
  expect(pods.size).toBe(1);
});

test("/v1/responses: shared instructions stay on one pod", async () => {
  const instructions = preamble("responses");
  const pods = await podsFor("/v1/responses", (i) => ({
    instructions,
    input: `question ${i}`,
    max_output_tokens: 1,
  }));
  expect(pods.size).toBe(1);
});
