import { afterEach, describe, expect, test } from "bun:test";
import type { Simulator } from "../../src/simulator/index.ts";
import { chat, fastSim, get, post, say } from "./helpers.ts";

let sim: Simulator;
afterEach(() => sim?.close());

async function expectError(res: Response, status: number, fields: Record<string, unknown> = {}) {
  expect(res.status).toBe(status);
  const body = await res.json();
  expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
  expect(typeof body.error.message).toBe("string");
  expect(body.error).toMatchObject(fields);
  return body.error as { message: string; type: string; param: string | null; code: string | null };
}

describe("errors", () => {
  test("unknown model -> 404 model_not_found", async () => {
    sim = fastSim({ loras: ["a"] });
    const err = await expectError(await chat(sim, { model: "nope", messages: say("hi") }), 404, {
      code: "model_not_found",
      param: "model",
      type: "invalid_request_error",
    });
    expect(err.message).toContain("nope");
  });

  test("bad JSON -> 400", async () => {
    sim = fastSim();
    await expectError(await post(sim, "/v1/chat/completions", "{not json"), 400);
  });

  test.each([
    ["missing messages", "/v1/chat/completions", { model: "m" }, "messages"],
    ["empty messages", "/v1/chat/completions", { model: "m", messages: [] }, "messages"],
    [
      "message without role",
      "/v1/chat/completions",
      { model: "m", messages: [{ content: "x" }] },
      "messages.0.role",
    ],
    ["missing prompt", "/v1/completions", { model: "m" }, "prompt"],
    ["several prompts", "/v1/completions", { model: "m", prompt: ["a", "b"] }, "prompt"],
    ["max_tokens 0", "/v1/completions", { model: "m", prompt: "a", max_tokens: 0 }, "max_tokens"],
    [
      "max_tokens not an integer",
      "/v1/completions",
      { model: "m", prompt: "a", max_tokens: 1.5 },
      "max_tokens",
    ],
  ])("%s -> 400 naming the field", async (_name, path, body, param) => {
    sim = fastSim();
    await expectError(await post(sim, path, body), 400, { param, type: "invalid_request_error" });
  });

  test("prompt longer than maxModelLen -> 400 context_length_exceeded", async () => {
    sim = fastSim({ maxModelLen: 100 });
    const err = await expectError(
      await post(sim, "/v1/completions", { model: "m", prompt: "x".repeat(404) }),
      400,
      {
        code: "context_length_exceeded",
        param: "prompt",
      },
    );
    expect(err.message).toContain("100");
  });

  test("prompt + max_tokens beyond maxModelLen -> 400", async () => {
    sim = fastSim({ maxModelLen: 100 });
    await expectError(
      await post(sim, "/v1/completions", { model: "m", prompt: "x".repeat(360), max_tokens: 20 }),
      400,
      {
        code: "context_length_exceeded",
        param: "max_tokens",
      },
    );
  });

  test("the default output length is clamped to the room left", async () => {
    sim = fastSim({ maxModelLen: 100, defaultMaxTokens: 50 });
    const res = await post(sim, "/v1/completions", { model: "m", prompt: "x".repeat(360) });
    expect((await res.json()).usage.completion_tokens).toBe(10);
  });

  test("unknown route -> 404 OpenAI error body", async () => {
    sim = fastSim();
    await expectError(await get(sim, "/v1/nothing"), 404);
  });

  test("after close() inference requests get 503", async () => {
    sim = fastSim();
    sim.close();
    await expectError(await chat(sim, { messages: say("hi") }), 503);
  });
});
