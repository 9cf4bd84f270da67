import { afterEach, describe, expect, test } from "bun:test";
import type { Simulator } from "../../src/simulator/index.ts";
import { fastSim, metrics, parseEvents, post, say } from "./helpers.ts";

let sim: Simulator;
afterEach(() => sim?.close());

describe("POST /v1/messages (Anthropic)", () => {
  test("Anthropic's message object, usage in input/output tokens", async () => {
    sim = fastSim({ loras: ["a"] });
    const res = await post(sim, "/v1/messages", {
      model: "a",
      max_tokens: 2,
      system: "Be brief.",
      messages: [{ role: "user", content: [{ type: "text", text: "Say hi" }] }],
    });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.id).toStartWith("msg_");
    expect(body).toMatchObject({
      type: "message",
      role: "assistant",
      model: "a",
      content: [{ type: "text", text: "hello world" }],
      stop_reason: "max_tokens",
      stop_sequence: null,
    });
    // "system\nBe brief.\n" + "user\nSay hi\n" = 29 characters = 8 tokens.
    expect(body.usage).toEqual({ input_tokens: 8, output_tokens: 2 });
    const m = await metrics(sim);
    expect(m.get('vllm:prompt_tokens_total{model_name="m"}')).toBe(8);
    expect(m.get('vllm:generation_tokens_total{model_name="m"}')).toBe(2);
  });

  test("streams Anthropic's events: message_start with input tokens, deltas, message_delta with output tokens", async () => {
    sim = fastSim();
    const res = await post(sim, "/v1/messages", {
      model: "m",
      max_tokens: 3,
      messages: say("hi"),
      stream: true,
    });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const events = parseEvents(await res.text());
    expect(events.map((e) => e.event)).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    for (const e of events) expect(e.data.type).toBe(e.event);
    expect(events[0]!.data.message).toMatchObject({
      model: "m",
      role: "assistant",
      usage: { input_tokens: 2 },
    });
    const text = events
      .filter((e) => e.event === "content_block_delta")
      .map((e) => (e.data.delta as { text: string }).text)
      .join("");
    expect(text).toBe("hello world simulated");
    expect(events[6]!.data).toEqual({
      type: "message_delta",
      delta: { stop_reason: "max_tokens", stop_sequence: null },
      usage: { output_tokens: 3 },
    });
  });

  test.each([
    ["missing max_tokens", { messages: [{ role: "user", content: "x" }] }],
    ["system role in messages", { max_tokens: 1, messages: [{ role: "system", content: "x" }] }],
    ["no messages", { max_tokens: 1, messages: [] }],
  ])("%s -> 400 in Anthropic's error shape", async (_name, body) => {
    sim = fastSim();
    const res = await post(sim, "/v1/messages", { model: "m", ...body });
    expect(res.status).toBe(400);
    const err = await res.json();
    expect(err.type).toBe("error");
    expect(err.error.type).toBe("invalid_request_error");
    expect(typeof err.error.message).toBe("string");
  });

  test("unknown model -> 404 not_found_error; bad JSON -> 400", async () => {
    sim = fastSim();
    const res = await post(sim, "/v1/messages", { model: "nope", max_tokens: 1, messages: say("x") });
    expect(res.status).toBe(404);
    const err = await res.json();
    expect(err).toEqual({
      type: "error",
      error: { type: "not_found_error", message: "The model `nope` does not exist." },
    });
    const bad = await post(sim, "/v1/messages", "{oops");
    expect(bad.status).toBe(400);
    expect((await bad.json()).type).toBe("error");
  });
});
