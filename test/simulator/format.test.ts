import { afterEach, describe, expect, test } from "bun:test";
import type { Simulator } from "../../src/simulator/index.ts";
import { chat, fastSim, get, post, say } from "./helpers.ts";

let sim: Simulator;
afterEach(() => sim?.close());

describe("chat completions (JSON)", () => {
  test("has the OpenAI shape, usage and one word per token", async () => {
    sim = fastSim();
    const res = await chat(sim, { messages: say("hello there"), max_tokens: 5 });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    const body = await res.json();
    expect(body).toMatchObject({
      object: "chat.completion",
      model: "m",
      choices: [{ index: 0, message: { role: "assistant" }, logprobs: null, finish_reason: "length" }],
      // "user\nhello there\n" = 17 characters = 5 tokens
      usage: {
        prompt_tokens: 5,
        completion_tokens: 5,
        total_tokens: 10,
        prompt_tokens_details: { cached_tokens: 0 },
      },
    });
    expect(body.id).toMatch(/^chatcmpl-[0-9a-f]+$/);
    expect(Number.isInteger(body.created)).toBe(true);
    expect(body.choices[0].message.content.split(" ")).toHaveLength(5);
  });

  test("max_completion_tokens wins, text content parts count", async () => {
    sim = fastSim();
    const messages = [{ role: "user", content: [{ type: "text", text: "x".repeat(40) }] }];
    const body = await (await chat(sim, { messages, max_tokens: 9, max_completion_tokens: 2 })).json();
    expect(body.usage.completion_tokens).toBe(2);
    expect(body.usage.prompt_tokens).toBe(Math.ceil("user\n".concat("x".repeat(40), "\n").length / 4));
  });

  test("without max_tokens uses defaultMaxTokens and finishes with stop", async () => {
    sim = fastSim({ defaultMaxTokens: 7 });
    const body = await (await chat(sim, { messages: say("hi") })).json();
    expect(body.usage.completion_tokens).toBe(7);
    expect(body.choices[0].finish_reason).toBe("stop");
  });

  test("without any default draws a length in [16, 128]", async () => {
    sim = fastSim({ interTokenMs: 0 });
    const body = await (await chat(sim, { messages: say("hi") })).json();
    expect(body.usage.completion_tokens).toBeGreaterThanOrEqual(16);
    expect(body.usage.completion_tokens).toBeLessThanOrEqual(128);
  });

  test("echoes the requested adapter name and x-request-id", async () => {
    sim = fastSim({ loras: ["sql-lora"] });
    const res = await post(
      sim,
      "/v1/chat/completions",
      { model: "sql-lora", messages: say("hi"), max_tokens: 1 },
      { headers: { "x-request-id": "r-1" } },
    );
    expect((await res.json()).model).toBe("sql-lora");
    expect(res.headers.get("x-request-id")).toBe("r-1");
  });

  test("a missing model means the base model, as in vLLM", async () => {
    sim = fastSim();
    const res = await post(sim, "/v1/chat/completions", { messages: say("hi"), max_tokens: 1 });
    expect((await res.json()).model).toBe("m");
  });
});

describe("text completions (JSON)", () => {
  test("has the OpenAI shape", async () => {
    sim = fastSim();
    const res = await post(sim, "/v1/completions", { model: "m", prompt: "x".repeat(20), max_tokens: 3 });
    const body = await res.json();
    expect(body).toMatchObject({
      object: "text_completion",
      model: "m",
      choices: [{ index: 0, text: "hello world simulated", logprobs: null, finish_reason: "length" }],
      usage: {
        prompt_tokens: 5,
        completion_tokens: 3,
        total_tokens: 8,
        prompt_tokens_details: { cached_tokens: 0 },
      },
    });
    expect(body.id).toMatch(/^cmpl-/);
  });

  test("accepts a one-element prompt array", async () => {
    sim = fastSim();
    const res = await post(sim, "/v1/completions", { model: "m", prompt: ["abcd"], max_tokens: 1 });
    expect((await res.json()).usage.prompt_tokens).toBe(1);
  });
});

describe("other routes", () => {
  test("GET /v1/models lists the base model and its adapters", async () => {
    sim = fastSim({ loras: ["a", "b"] });
    const body = await (await get(sim, "/v1/models")).json();
    expect(body.object).toBe("list");
    expect(body.data.map((m: { id: string }) => m.id)).toEqual(["m", "a", "b"]);
    expect(body.data[0]).toMatchObject({ object: "model", owned_by: "vllm", parent: null });
    expect(body.data[1]).toMatchObject({ parent: "m" });
  });

  test("GET /health is 200", async () => {
    sim = fastSim();
    expect((await get(sim, "/health")).status).toBe(200);
  });
});
