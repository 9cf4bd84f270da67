import { describe, expect, test } from "bun:test";
import { SseAccounting } from "../../src/proxy/accounting.ts";
import { JsonAccounting } from "../../src/proxy/json-accounting.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const json = (o: unknown) => JSON.stringify(o);

// Recorded shapes (vLLM's OpenAI chunks, the Responses API's typed events, Anthropic's Messages events).
const chunk = (delta: object, finish: string | null = null) =>
  `data: ${json({ id: "c1", object: "chat.completion.chunk", created: 1, model: "target-m", choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
const CHAT = [
  chunk({ role: "assistant", content: "" }),
  chunk({ content: "Hel" }),
  chunk({ content: 'lo "model":"x"' }),
  chunk({}, "stop"),
  `data: ${json({ id: "c1", object: "chat.completion.chunk", created: 1, model: "target-m", choices: [], usage: { prompt_tokens: 12, total_tokens: 14, completion_tokens: 2, prompt_tokens_details: { cached_tokens: 8 } } })}\n\n`,
  "data: [DONE]\n\n",
];
const ev = (type: string, data: object) => `event: ${type}\ndata: ${json({ type, ...data })}\n\n`;
const RESPONSES = [
  ev("response.created", {
    sequence_number: 0,
    response: {
      id: "resp_abc",
      object: "response",
      metadata: { model: "kept" },
      model: "target-m",
      status: "in_progress",
      usage: null,
    },
  }),
  ev("response.in_progress", { response: { id: "resp_abc", model: "target-m", status: "in_progress" } }),
  ev("response.output_item.added", { item: { id: "msg_1", type: "message", content: [] } }),
  ev("response.output_text.delta", { item_id: "msg_1", delta: "Hel" }),
  ev("response.output_text.delta", { item_id: "msg_1", delta: "lo" }),
  ev("response.output_text.done", { item_id: "msg_1", text: "Hello" }),
  ev("response.completed", {
    response: {
      id: "resp_abc",
      model: "target-m",
      status: "completed",
      usage: {
        input_tokens: 12,
        input_tokens_details: { cached_tokens: 8 },
        output_tokens: 2,
        total_tokens: 14,
      },
    },
  }),
];
const MESSAGES = [
  ev("message_start", {
    message: {
      id: "msg_1",
      type: "message",
      role: "assistant",
      model: "target-m",
      content: [],
      usage: { input_tokens: 12, cache_read_input_tokens: 8, output_tokens: 1 },
    },
  }),
  ev("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
  ev("ping", {}),
  ev("content_block_delta", { index: 0, delta: { type: "text_delta", text: "Hel" } }),
  ev("content_block_delta", { index: 0, delta: { type: "text_delta", text: "lo" } }),
  ev("content_block_stop", { index: 0 }),
  ev("message_delta", { delta: { stop_reason: "end_turn" }, usage: { output_tokens: 2 } }),
  ev("message_stop", {}),
];
const STREAMS = { chat: CHAT, responses: RESPONSES, messages: MESSAGES } as const;
/** Which frames of each stream carry generated text. */
const CONTENT = { chat: [1, 2], responses: [3, 4], messages: [3, 4] } as const;
const crlf = (s: string) => s.replace(/\n/g, "\r\n");

/**
 * Feeds `chunks`; the clock reads 100 + 10 × the index of the chunk being pushed: frames
 * that arrive in one chunk arrive at the same time.
 */
function run(kind: string, chunks: Uint8Array[], opts: { drop?: boolean; renameTo?: string } = {}) {
  let t = 100;
  const acc = new SseAccounting({
    kind,
    now: () => t,
    ...(opts.drop ? { dropUsageEvent: true } : {}),
    ...(opts.renameTo ? { renameTo: opts.renameTo } : {}),
  });
  const parts: Uint8Array[] = [];
  for (const c of chunks) {
    const o = acc.chunk(c);
    if (o instanceof Uint8Array) parts.push(o);
    else if (o) parts.push(...o);
    t += 10;
  }
  const rest = acc.flush();
  if (rest) parts.push(rest);
  return { out: parts.map((p) => dec.decode(p)).join(""), r: acc.result };
}

/** The whole stream, in two chunks at every byte offset, and one byte at a time. */
function* splits(bytes: Uint8Array): Generator<Uint8Array[]> {
  yield [bytes];
  for (let i = 1; i < bytes.length; i++) yield [bytes.subarray(0, i), bytes.subarray(i)];
  yield [...bytes].map((b) => new Uint8Array([b]));
}

describe("stream dialects: accounting at every split point", () => {
  for (const [kind, frames] of Object.entries(STREAMS)) {
    for (const [ending, fix] of [
      ["LF", (s: string) => s],
      ["CRLF", crlf],
    ] as const) {
      test(`${kind}, ${ending}: TTFT, content frames and usage whatever the chunking`, () => {
        const whole = fix(frames.join(""));
        // Where the two content frames end: each is timed by the chunk its last byte came in.
        const [first, second] = CONTENT[kind as keyof typeof STREAMS].map(
          (k) => enc.encode(fix(frames.slice(0, k + 1).join(""))).length - 1,
        );
        for (const chunks of splits(enc.encode(whole))) {
          const { out, r } = run(kind, chunks);
          const at = (byte: number) => {
            let end = 0;
            for (let i = 0; i < chunks.length; i++) {
              end += chunks[i]!.length;
              if (end > byte) return i;
            }
            return -1;
          };
          expect(out).toBe(whole);
          expect(r.contentEvents).toBe(2);
          expect(r.firstTokenAt).toBe(100 + 10 * at(first!));
          expect(r.maxInterTokenMs).toBe(10 * (at(second!) - at(first!)));
          expect(r.usage).toEqual({ promptTokens: 12, completionTokens: 2, cachedTokens: 8 });
          expect(r.responseId).toBe(kind === "responses" ? "resp_abc" : undefined);
        }
      });

      test(`${kind}, ${ending}: model renamed where the dialect carries it, whatever the chunking`, () => {
        const whole = fix(frames.join(""));
        const first = run(kind, [enc.encode(whole)], { renameTo: "alias" }).out;
        for (const chunks of splits(enc.encode(whole)))
          expect(run(kind, chunks, { renameTo: "alias" }).out).toBe(first);
        expect(first).not.toContain('"model":"target-m"');
        const renamed = first.split(/\r?\n\r?\n/).filter((f) => f.includes('"model":"alias"'));
        if (kind === "chat") expect(renamed.length).toBe(5);
        if (kind === "responses") {
          expect(renamed.length).toBe(3); // created, in_progress, completed
          expect(first).toContain('"metadata":{"model":"kept"}');
        }
        if (kind === "messages") expect(renamed.length).toBe(1); // message_start
        // Generated text that looks like a model field is text, not a field.
        if (kind === "chat") expect(first).toContain('lo \\"model\\":\\"x\\"');
        expect(run(kind, [enc.encode(first)]).r.usage?.completionTokens).toBe(2);
      });
    }
  }

  test("chat: the usage chunk the gateway asked for is dropped at every split point, CRLF and LF", () => {
    for (const fix of [(s: string) => s, crlf]) {
      const whole = fix(CHAT.join(""));
      const expected = fix([...CHAT.slice(0, 4), CHAT[5]].join(""));
      for (const chunks of splits(enc.encode(whole))) {
        const { out, r } = run("chat", chunks, { drop: true });
        expect(out).toBe(expected);
        expect(r.usage?.promptTokens).toBe(12);
      }
    }
  });

  test("a usage chunk that also carries choices is not dropped", () => {
    const both = `data: ${json({ model: "m", choices: [{ index: 0, delta: { content: "x" } }], usage: { prompt_tokens: 1, completion_tokens: 1 } })}\n\n`;
    expect(run("chat", [enc.encode(both)], { drop: true }).out).toBe(both);
  });

  test("dropping is for chat and completions only: other dialects' usage events stay", () => {
    const whole = MESSAGES.join("");
    expect(run("messages", [enc.encode(whole)], { drop: true }).out).toBe(whole);
  });

  test("events without an event: line are typed by their data", () => {
    const bare = RESPONSES.map((f) => f.replace(/^event: [^\n]*\n/, "")).join("");
    const { r } = run("responses", [enc.encode(bare)]);
    expect(r.contentEvents).toBe(2);
    expect(r.usage?.promptTokens).toBe(12);
    expect(r.responseId).toBe("resp_abc");
  });

  test("no usage reported: content frames are the count, usage stays undefined", () => {
    const { r } = run("chat", [enc.encode([...CHAT.slice(0, 4), CHAT[5]].join(""))]);
    expect(r.usage).toBeUndefined();
    expect(r.contentEvents).toBe(2);
  });
});

describe("JSON answers per route", () => {
  const account = (kind: string, body: unknown) => {
    const acc = new JsonAccounting(kind);
    const text = typeof body === "string" ? body : JSON.stringify(body);
    for (let i = 0; i < text.length; i += 7) acc.chunk(enc.encode(text.slice(i, i + 7)));
    acc.flush();
    return acc.result;
  };

  test("chat: prompt and completion tokens, cached tokens", () => {
    const r = account("chat", {
      id: "x",
      model: "m",
      choices: [{ message: { content: 'a "usage": {"prompt_tokens": 99}' } }],
      usage: { prompt_tokens: 5, completion_tokens: 2, prompt_tokens_details: { cached_tokens: 3 } },
    });
    expect(r.usage).toEqual({ promptTokens: 5, completionTokens: 2, cachedTokens: 3 });
  });

  test("embeddings: prompt tokens, no completion tokens", () => {
    const r = account("embeddings", {
      data: [{ embedding: [0.1] }],
      usage: { prompt_tokens: 4, total_tokens: 4 },
    });
    expect(r.usage).toEqual({ promptTokens: 4, completionTokens: 0, cachedTokens: 0 });
  });

  test("pretty-printed usage is read too", () => {
    const r = account(
      "completions",
      '{\n  "usage": {\n    "prompt_tokens": 3,\n    "completion_tokens": 1\n  }\n}',
    );
    expect(r.usage?.promptTokens).toBe(3);
  });

  test("responses: input / output tokens and the response id", () => {
    const r = account("responses", {
      id: "resp_9",
      model: "m",
      output: [],
      usage: { input_tokens: 7, output_tokens: 3, input_tokens_details: { cached_tokens: 1 } },
    });
    expect(r.usage).toEqual({ promptTokens: 7, completionTokens: 3, cachedTokens: 1 });
    expect(r.responseId).toBe("resp_9");
  });

  test("messages: input / output tokens and cache reads", () => {
    const r = account("messages", {
      id: "msg_1",
      content: [{ type: "tool_use", input: { usage: { input_tokens: 99, output_tokens: 99 } } }],
      usage: { input_tokens: 9, output_tokens: 4, cache_read_input_tokens: 2 },
    });
    expect(r.usage).toEqual({ promptTokens: 9, completionTokens: 4, cachedTokens: 2 });
  });

  test("an answer without usage, or not JSON, has none and does not throw", () => {
    expect(account("tokenize", { tokens: [1, 2], count: 2 }).usage).toBeUndefined();
    expect(account("chat", '{"usage": {"prompt_tokens": 1').usage).toBeUndefined();
    expect(account("responses", "<html>").usage).toBeUndefined();
  });
});
