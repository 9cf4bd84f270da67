import { describe, expect, test } from "bun:test";
import { promptText } from "../../src/scheduling/prefix/prompt.ts";

describe("prompt serialization", () => {
  test.each([
    {
      case: "chat, string contents",
      body: {
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "Hi" },
        ],
      },
      text: "system\nBe brief.\nuser\nHi\n",
    },
    {
      case: "chat, content parts",
      body: {
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "What is this?" },
              { type: "image_url", image_url: { url: "https://x/cat.png" } },
            ],
          },
        ],
      },
      text: 'user\nWhat is this?\n[image_url]{"url":"https://x/cat.png"}\n',
    },
    {
      case: "chat, null content with tool calls",
      body: { messages: [{ role: "assistant", content: null, tool_calls: [{ id: "1" }] }] },
      text: 'assistant\n\n[{"id":"1"}]\n',
    },
    { case: "completions, string", body: { prompt: "Once upon" }, text: "Once upon" },
    { case: "completions, list of strings", body: { prompt: ["a", "b"] }, text: "a\nb" },
    { case: "completions, token ids", body: { prompt: [1, 2, 3] }, text: "1,2,3" },
    { case: "completions, lists of token ids", body: { prompt: [[1, 2], [3]] }, text: "1,2\n3" },
    { case: "embeddings input", body: { input: "embed me" }, text: "embed me" },
    { case: "nothing to hash", body: { model: "m" }, text: "" },
  ])("$case", ({ body, text }) => {
    expect(promptText(body)).toBe(text);
  });

  test("roles are part of the text: the same words from another role differ", () => {
    const a = promptText({ messages: [{ role: "user", content: "x" }] });
    const b = promptText({ messages: [{ role: "assistant", content: "x" }] });
    expect(a).not.toBe(b);
  });

  test("a longer conversation extends the shorter one's text (multi-turn prefixes match)", () => {
    const turn1 = [
      { role: "system", content: "S" },
      { role: "user", content: "Q1" },
    ];
    const turn2 = [...turn1, { role: "assistant", content: "A1" }, { role: "user", content: "Q2" }];
    expect(promptText({ messages: turn2 }).startsWith(promptText({ messages: turn1 }))).toBe(true);
  });
});
