import { describe, expect, test } from "bun:test";
import { APIS } from "../../src/openai/routes.ts";
import type { ApiKind } from "../../src/request.ts";
import { promptText } from "../../src/scheduling/prefix/prompt.ts";

const user = [{ role: "user", content: "Hi" }];

describe("prompt text per API, for prefix scoring", () => {
  test.each<[string, ApiKind, Record<string, unknown>, string]>([
    ["chat", "chat", { messages: user }, "user\nHi\n"],
    ["completions", "completions", { prompt: ["a", "b"] }, "a\nb"],
    [
      "responses, instructions and a string",
      "responses",
      { instructions: "Be brief.", input: "Hi" },
      "system\nBe brief.\nuser\nHi\n",
    ],
    [
      "responses, items: messages with input_text parts and a function call",
      "responses",
      {
        input: [
          { type: "message", role: "user", content: [{ type: "input_text", text: "Weather?" }] },
          { type: "function_call", name: "w", arguments: "{}" },
        ],
      },
      'user\nWeather?\n{"type":"function_call","name":"w","arguments":"{}"}\n',
    ],
    ["anthropic, system string", "messages", { system: "S", messages: user }, "system\nS\nuser\nHi\n"],
    [
      "anthropic, system and content blocks",
      "messages",
      {
        system: [{ type: "text", text: "S" }],
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "Look" },
              { type: "image", source: { data: "b64" } },
            ],
          },
        ],
      },
      'system\nS\nuser\nLook\n[image]{"type":"image","source":{"data":"b64"}}\n',
    ],
    ["embeddings, a string", "embeddings", { input: "embed me" }, "embed me"],
    ["embeddings, strings", "embeddings", { input: ["a", "b"] }, "a\nb"],
    ["embeddings, token ids give no text", "embeddings", { input: [1, 2, 3] }, ""],
    ["embeddings, lists of token ids give no text", "embeddings", { input: [[1], [2]] }, ""],
    ["embeddings, chat-style", "embeddings", { messages: user }, "user\nHi\n"],
    ["rerank: none", "rerank", { query: "q", documents: ["a"] }, ""],
    ["score: none", "score", { text_1: "q", text_2: "a" }, ""],
    ["tokenize: none, though it has a prompt", "tokenize", { prompt: "hello" }, ""],
    ["detokenize: none", "detokenize", { tokens: [1] }, ""],
    ["transcriptions: none, though the form has a prompt", "transcriptions", { prompt: "names: Ada" }, ""],
  ])("%s", (_name, kind, body, text) => {
    expect(promptText(body, kind)).toBe(text);
  });

  test("the route table's prompt flag matches: a route without a prompt gives no text", () => {
    const anything = { messages: user, prompt: "p", input: "i", query: "q", documents: ["d"] };
    for (const spec of Object.values(APIS)) {
      expect(promptText(anything, spec.kind) !== "").toBe(spec.prompt);
    }
  });

  test("a later Responses turn extends the earlier one's text (multi-turn prefixes match)", () => {
    const turn1 = [{ role: "user", content: "Q1" }];
    const turn2 = [
      ...turn1,
      { role: "assistant", content: [{ type: "output_text", text: "A1" }] },
      { role: "user", content: "Q2" },
    ];
    const a = promptText({ instructions: "S", input: turn1 }, "responses");
    expect(promptText({ instructions: "S", input: turn2 }, "responses").startsWith(a)).toBe(true);
  });

  test("without a kind, bodies are read by shape as before (Anthropic's system included)", () => {
    expect(promptText({ messages: user })).toBe("user\nHi\n");
    expect(promptText({ system: "S", messages: user })).toBe("system\nS\nuser\nHi\n");
    expect(promptText({ prompt: [1, 2] })).toBe("1,2");
    expect(promptText({ input: "x" })).toBe("x");
  });

  test("a limit gives exactly the first characters of the full text, and stops serializing early", () => {
    const messages = Array.from({ length: 1000 }, (_, i) => ({ role: "user", content: `message ${i}` }));
    const full = promptText({ messages }, "chat");
    for (const limit of [0, 1, 5, 17, 100, full.length, full.length + 10])
      expect(promptText({ messages }, "chat", limit)).toBe(full.slice(0, limit));
    let reads = 0;
    const counted = messages.map((m) => ({
      role: m.role,
      get content() {
        reads++;
        return m.content;
      },
    }));
    promptText({ messages: counted }, "chat", 64);
    expect(reads).toBeLessThan(10);
  });
});
