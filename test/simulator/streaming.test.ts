import { afterEach, describe, expect, test } from "bun:test";
import type { Simulator } from "../../src/simulator/index.ts";
import { chat, fastSim, parseSse, post, say } from "./helpers.ts";

let sim: Simulator;
afterEach(() => sim?.close());

// biome-ignore lint/suspicious/noExplicitAny: parsed SSE chunks
type Chunk = any;

describe("chat streaming", () => {
  test("role chunk, one chunk per token, finish_reason on the last, then [DONE]", async () => {
    sim = fastSim();
    const res = await chat(sim, { messages: say("hi"), max_tokens: 4, stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const frames = parseSse(await res.text());
    expect(frames.at(-1)).toBe("[DONE]");
    const chunks = frames.slice(0, -1) as Chunk[];
    expect(chunks).toHaveLength(5);
    for (const c of chunks) {
      expect(c).toMatchObject({ object: "chat.completion.chunk", model: "m", id: chunks[0].id });
      expect(c.usage).toBeUndefined();
    }
    expect(chunks[0].choices[0]).toEqual({
      index: 0,
      delta: { role: "assistant", content: "" },
      logprobs: null,
      finish_reason: null,
    });
    const content = chunks.slice(1).map((c) => c.choices[0].delta.content);
    expect(content.every((t) => typeof t === "string" && t.length > 0)).toBe(true);
    expect(content.join("")).toBe("hello world simulated tokens");
    expect(chunks.slice(1, -1).every((c) => c.choices[0].finish_reason === null)).toBe(true);
    expect(chunks.at(-1).choices[0].finish_reason).toBe("length");
  });

  test("include_usage adds a final usage chunk with empty choices", async () => {
    sim = fastSim();
    const res = await chat(sim, {
      messages: say("hi"),
      max_tokens: 3,
      stream: true,
      stream_options: { include_usage: true },
    });
    const frames = parseSse(await res.text());
    expect(frames.at(-1)).toBe("[DONE]");
    const usage = frames.at(-2) as Chunk;
    expect(usage.choices).toEqual([]);
    expect(usage.usage).toMatchObject({ completion_tokens: 3, prompt_tokens_details: { cached_tokens: 0 } });
    for (const c of frames.slice(0, -2) as Chunk[]) expect(c.usage).toBeNull();
  });

  test("chunks are flushed as tokens are produced, not at the end", async () => {
    sim = fastSim({ interTokenMs: 1000, timeScale: 0.05 }); // 50 ms per token
    const res = await chat(sim, { messages: say("hi"), max_tokens: 40, stream: true });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes('"content":"hello"')) {
      const { value, done } = await reader.read();
      expect(done).toBe(false);
      text += decoder.decode(value);
    }
    // The first token is out while the request is still running.
    expect(sim.stats()).toMatchObject({ running: 1, completed: 0 });
    await reader.cancel();
  });
});

describe("completions streaming", () => {
  test("text_completion chunks, no role chunk, usage when asked", async () => {
    sim = fastSim();
    const res = await post(sim, "/v1/completions", {
      model: "m",
      prompt: "once upon",
      max_tokens: 2,
      stream: true,
      stream_options: { include_usage: true },
    });
    const frames = parseSse(await res.text()) as Chunk[];
    expect(frames).toHaveLength(4);
    expect(frames[0]).toMatchObject({
      object: "text_completion",
      choices: [{ index: 0, text: "hello", logprobs: null, finish_reason: null }],
    });
    expect(frames[1].choices[0]).toMatchObject({ text: " world", finish_reason: "length" });
    expect(frames[2]).toMatchObject({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 2 } });
    expect(frames[3]).toBe("[DONE]");
  });
});
