import { afterEach, describe, expect, test } from "bun:test";
import type { Simulator } from "../../src/simulator/index.ts";
import { chat, fastSim, metrics, post, postOk, say } from "./helpers.ts";

let sim: Simulator;
afterEach(() => sim?.close());

const pooling = (opts = {}) => fastSim({ model: "e", runner: "pooling", embeddingSize: 64, ...opts });
const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);

const embed = (body: Record<string, unknown>) => postOk(sim, "/v1/embeddings", { model: "e", ...body });

describe("POST /v1/embeddings", () => {
  test("OpenAI's shape: one unit vector per input, deterministic, usage counted", async () => {
    sim = pooling();
    const body = await embed({ input: ["the cat sat", "the cat sat", "stock prices fell"] });
    expect(body).toMatchObject({ object: "list", model: "e" });
    expect(body.id).toStartWith("embd-");
    expect(body.data.map((d: { index: number; object: string }) => [d.index, d.object])).toEqual([
      [0, "embedding"],
      [1, "embedding"],
      [2, "embedding"],
    ]);
    const [a, b, c] = body.data.map((d: { embedding: number[] }) => d.embedding);
    expect(a).toHaveLength(64);
    expect(norm(a)).toBeCloseTo(1, 9);
    expect(a).toEqual(b);
    expect(a.every((x: number) => x !== 0)).toBe(true); // dense, like a real model's
    expect(Math.abs(dot(a, c))).toBeLessThan(0.5); // no shared word: nearly orthogonal
    // 11, 11 and 17 characters: 3 + 3 + 5 tokens at 4 characters per token.
    expect(body.usage).toEqual({
      prompt_tokens: 11,
      total_tokens: 11,
      completion_tokens: 0,
      prompt_tokens_details: null,
    });
    const again = await embed({ input: "the cat sat" });
    expect(again.data[0].embedding).toEqual(a);
  });

  test("dimensions keeps the first n components, normalised again; more than the model has is a 400", async () => {
    sim = pooling();
    const full = (await embed({ input: "alpha beta gamma delta" })).data[0].embedding as number[];
    const short = (await embed({ input: "alpha beta gamma delta", dimensions: 16 })).data[0]
      .embedding as number[];
    expect(short).toHaveLength(16);
    expect(norm(short)).toBeCloseTo(1, 9);
    const head = full.slice(0, 16);
    expect(norm(head)).toBeGreaterThan(0);
    for (const [i, x] of short.entries()) expect(x).toBeCloseTo(head[i]! / norm(head), 9);
    const res = await post(sim, "/v1/embeddings", { model: "e", input: "x", dimensions: 65 });
    expect(res.status).toBe(400);
    expect((await res.json()).error.param).toBe("dimensions");
  });

  test("base64 is the float32 little-endian bytes of the same vector", async () => {
    sim = pooling();
    const floats = (await embed({ input: "hello there" })).data[0].embedding as number[];
    const b64 = (await embed({ input: "hello there", encoding_format: "base64" })).data[0]
      .embedding as string;
    const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    const decoded = [...new Float32Array(bytes.buffer)];
    expect(decoded).toHaveLength(64);
    for (const [i, x] of decoded.entries()) expect(x).toBeCloseTo(floats[i]!, 6);
  });

  test("chat-style messages embed their rendered prompt, as the chat route renders it", async () => {
    sim = pooling();
    const body = await embed({ messages: [{ role: "user", content: "embed me" }] });
    expect(body.data).toHaveLength(1);
    expect(body.usage.prompt_tokens).toBe(4); // "user\nembed me\n" = 14 characters
    const same = await embed({ input: "user\nembed me\n" });
    expect(same.data[0].embedding).toEqual(body.data[0].embedding);
  });

  test("token-id input counts its ids as prompt tokens", async () => {
    sim = pooling();
    const body = await embed({
      input: [
        [72, 101, 108],
        [1, 2],
      ],
    });
    expect(body.data).toHaveLength(2);
    expect(body.usage.prompt_tokens).toBe(5);
  });

  test.each([
    ["no input", {}, "input"],
    ["empty list", { input: [] }, "input"],
    ["a number", { input: 3 }, "input"],
    ["bad encoding_format", { input: "x", encoding_format: "hex" }, "encoding_format"],
  ])("%s -> 400 naming the field", async (_name, body, param) => {
    sim = pooling();
    const res = await post(sim, "/v1/embeddings", { model: "e", ...body });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatchObject({ type: "invalid_request_error", param });
  });

  test("an unknown model is a 404; an input longer than the context a 400", async () => {
    sim = pooling({ maxModelLen: 10 });
    expect((await post(sim, "/v1/embeddings", { model: "nope", input: "x" })).status).toBe(404);
    const res = await post(sim, "/v1/embeddings", { model: "e", input: "x".repeat(44) });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe("context_length_exceeded");
  });

  test("each input is one engine request: prompt tokens and successes counted, no generation", async () => {
    sim = pooling();
    await embed({ input: ["aaaa", "bbbbbbbb"] });
    const m = await metrics(sim);
    expect(m.get('vllm:prompt_tokens_total{model_name="e"}')).toBe(3);
    expect(m.get('vllm:request_success_total{model_name="e",finished_reason="stop"}')).toBe(2);
    expect(m.get('vllm:generation_tokens_total{model_name="e"}')).toBe(0);
    expect(m.get('vllm:e2e_request_latency_seconds_count{model_name="e"}')).toBe(2);
  });
});

describe("score and rerank", () => {
  test("score: 1:N pairs in vLLM's shape, higher for shared words", async () => {
    sim = pooling();
    const res = await post(sim, "/v1/score", {
      model: "e",
      text_1: "capital of france",
      text_2: ["the capital of france is paris", "bananas are yellow"],
    });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ object: "list", model: "e" });
    expect(body.id).toStartWith("score-");
    expect(body.data.map((d: { index: number; object: string }) => [d.index, d.object])).toEqual([
      [0, "score"],
      [1, "score"],
    ]);
    const [related, unrelated] = body.data.map((d: { score: number }) => d.score);
    expect(related).toBeGreaterThan(unrelated);
    expect(related).toBeLessThanOrEqual(1);
    expect(unrelated).toBeGreaterThanOrEqual(0);
    expect(body.usage.prompt_tokens).toBeGreaterThan(0);
  });

  test("score: /score serves too, N:N pairs, and mismatched lengths are a 400", async () => {
    sim = pooling();
    const ok = await post(sim, "/score", { model: "e", text_1: ["a", "b"], text_2: ["a", "c"] });
    const scores = (await ok.json()).data.map((d: { score: number }) => d.score);
    expect(scores[0]).toBeCloseTo(1, 9);
    const bad = await post(sim, "/v1/score", { model: "e", text_1: ["a", "b"], text_2: ["a", "b", "c"] });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toContain("1:1, 1:N or N:N");
  });

  test("rerank: results sorted by relevance, top_n, documents returned unless asked not to", async () => {
    sim = pooling();
    const docs = ["bananas are yellow", "paris is the capital of france", "france borders spain"];
    for (const path of ["/v1/rerank", "/rerank", "/v2/rerank"]) {
      const res = await post(sim, path, {
        model: "e",
        query: "capital of france",
        documents: docs,
        top_n: 2,
      });
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body.id).toStartWith("rerank-");
      expect(body.model).toBe("e");
      expect(body.results.map((r: { index: number }) => r.index)).toEqual([1, 2]);
      expect(body.results[0].document).toEqual({ text: docs[1] });
      expect(body.results[0].relevance_score).toBeGreaterThan(body.results[1].relevance_score);
      expect(body.usage.total_tokens).toBeGreaterThan(0);
      // vLLM's RerankUsage: prompt_tokens (what the gateway accounts) and total_tokens.
      expect(body.usage.prompt_tokens).toBe(body.usage.total_tokens);
    }
    const bare = await post(sim, "/v1/rerank", {
      model: "e",
      query: "q",
      documents: [{ text: "d" }],
      return_documents: false,
    });
    expect((await bare.json()).results[0]).not.toHaveProperty("document");
    const bad = await post(sim, "/v1/rerank", { model: "e", query: "q", documents: [] });
    expect(bad.status).toBe(400);
  });
});

describe("runner", () => {
  test("a pooling pod refuses chat, completions, responses, messages with vLLM's 400", async () => {
    sim = pooling();
    const res = await chat(sim, { model: "e", messages: say("hi") });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatchObject({
      message: "The model does not support Chat Completions API.",
      type: "invalid_request_error",
    });
    expect((await post(sim, "/v1/completions", { model: "e", prompt: "x" })).status).toBe(400);
    expect((await post(sim, "/v1/responses", { model: "e", input: "x" })).status).toBe(400);
    const msg = await post(sim, "/v1/messages", { model: "e", max_tokens: 1, messages: say("x") });
    expect(msg.status).toBe(400);
    expect((await msg.json()).error.type).toBe("invalid_request_error");
    expect((await metrics(sim)).get('vllm:prompt_tokens_total{model_name="e"}')).toBe(0);
  });

  test("a generation pod refuses embeddings, score and rerank", async () => {
    sim = fastSim();
    const res = await post(sim, "/v1/embeddings", { model: "m", input: "x" });
    expect(res.status).toBe(400);
    expect((await res.json()).error.message).toBe("The model does not support Embeddings API.");
    expect((await post(sim, "/v1/score", { model: "m", text_1: "a", text_2: "b" })).status).toBe(400);
    expect((await post(sim, "/v1/rerank", { model: "m", query: "a", documents: ["b"] })).status).toBe(400);
  });

  test("an unknown runner is refused at construction", () => {
    expect(() => fastSim({ runner: "embed" as "pooling" })).toThrow(
      '`runner` must be "generate" or "pooling"',
    );
  });
});
