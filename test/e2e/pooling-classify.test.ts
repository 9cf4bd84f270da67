import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Stack, startPoolPerPod } from "../helpers/stack.ts";

/**
 * vLLM's `/pooling` and `/classify` (pooling runner) take the embeddings body: routed by
 * its model to the pool serving it, validated and accounted (prompt tokens) as embeddings.
 */
const EMBED = "BAAI/bge-small-en-v1.5";
let stack: Stack;

beforeAll(async () => {
  stack = await startPoolPerPod(
    ["chat", "embed"],
    [{ model: "facebook/opt-125m" }, { model: EMBED, runner: "pooling" }],
    { endpointServedHeader: true },
  );
});

afterAll(() => stack.close());

const post = (path: string, body: unknown) =>
  fetch(`${stack.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

const inputTokens = async () => {
  const text = await (await fetch(`${stack.url}/metrics`)).text();
  const m = text.match(
    /^inference_objective_input_tokens_sum\{model_name="BAAI\/bge-small-en-v1.5"[^}]*\} (\S+)$/m,
  );
  return Number(m?.[1] ?? 0);
};

test("/pooling and /classify reach the embedding pool's pod, with vLLM's answers, and count their tokens", async () => {
  const embedPod = `127.0.0.1:${stack.pods[1]!.port}`;
  const before = await inputTokens();
  const pooled = await post("/pooling", { model: EMBED, input: ["a sentence", "another one"] });
  expect(pooled.status).toBe(200);
  expect(pooled.headers.get("x-gateway-destination-endpoint-served")).toBe(embedPod);
  const p = (await pooled.json()) as {
    data: { object: string; data: number[] }[];
    usage: { prompt_tokens: number };
  };
  expect(p.data.map((d) => d.object)).toEqual(["pooling", "pooling"]);
  const classified = await post("/classify", { model: EMBED, input: "is this spam?" });
  expect(classified.status).toBe(200);
  expect(classified.headers.get("x-gateway-destination-endpoint-served")).toBe(embedPod);
  const c = (await classified.json()) as {
    data: { label: string; probs: number[] }[];
    usage: { prompt_tokens: number };
  };
  expect(c.data[0]!.probs.length).toBe(2);
  expect((await inputTokens()) - before).toBe(p.usage.prompt_tokens + c.usage.prompt_tokens);
});

test("a /classify body without input is a 400 naming it; an unknown model a 404", async () => {
  const missing = await post("/classify", { model: EMBED });
  expect(missing.status).toBe(400);
  expect(((await missing.json()) as { error: { param: string } }).error.param).toBe("input");
  const unknown = await post("/pooling", { model: "nope", input: "x" });
  expect(unknown.status).toBe(404);
});
