import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { acceptsChat, acceptsCompletion } from "../../src/openai/fast-accept.ts";
import { ChatCompletionSchema, CompletionSchema } from "../../src/openai/schemas.ts";
import { bodyValidator } from "../../src/openai/validate.ts";

/** Values of every JSON kind a client may put in a field. */
const VALUES: unknown[] = [
  undefined,
  null,
  0,
  -1,
  1,
  2,
  1.5,
  Number.POSITIVE_INFINITY, // what JSON.parse makes of 1e400
  "",
  "x",
  true,
  false,
  [],
  [{}],
  [""],
  ["a"],
  ["a", 1],
  [1],
  [1, 2],
  [[1]],
  [[]],
  {},
  { type: "text" },
  { include_usage: true },
  { include_usage: 1 },
  [{ type: "text" }],
  [{ type: "" }],
  [{ role: "user", content: "hi" }],
];

const chat = { model: "m", messages: [{ role: "user", content: "Hello" }], max_tokens: 16 };
const completion = { model: "m", prompt: "Hello", max_tokens: 16 };
const FIELDS = ["model", "stream", "stream_options", "max_tokens", "n", "temperature", "top_p"];

/** Every body that differs from `base` in one field, or in one field of its first message. */
function variants(base: Record<string, unknown>, fields: string[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [base];
  for (const f of fields) for (const value of VALUES) out.push({ ...base, [f]: value });
  if ("messages" in base)
    for (const f of ["role", "content"])
      for (const value of VALUES)
        out.push({ ...base, messages: [{ role: "user", content: "x", [f]: value }] });
  return out;
}

describe("fast accept (a sufficient condition for the valibot schemas)", () => {
  const cases = [
    [
      "chat",
      acceptsChat,
      ChatCompletionSchema,
      variants(chat, [...FIELDS, "messages", "max_completion_tokens"]),
    ],
    ["completions", acceptsCompletion, CompletionSchema, variants(completion, [...FIELDS, "prompt"])],
  ] as const;
  for (const [name, accepts, schema, bodies] of cases) {
    test(`${name}: accepts what valibot accepts, and only that`, () => {
      for (const body of bodies) {
        const valid = v.safeParse(schema, body).success;
        // Left to valibot, though valid: a list as stream_options, a list of token-id lists as prompt.
        const rare =
          Array.isArray(body["stream_options"]) ||
          (Array.isArray(body["prompt"]) && Array.isArray(body["prompt"][0]));
        expect({ body, fast: accepts(body) }).toEqual({ body, fast: valid && !rare });
      }
    });
  }

  test("bodies the fast check refuses still get valibot's 400, same message and param", () => {
    const validate = bodyValidator(ChatCompletionSchema);
    const bad = { model: "m", messages: [{ role: "user", content: 5 }] };
    expect(acceptsChat(bad)).toBe(false);
    expect(() => validate(bad)).toThrow(
      "Invalid value for 'messages[0].content': expected (string | Array).",
    );
    expect(() => validate({ model: "m", messages: [] })).toThrow(
      "Invalid value for 'messages': expected >=1.",
    );
    expect(() => validate({ messages: [{ role: "user" }] })).toThrow("Missing required parameter: 'model'.");
    expect(() => validate(chat)).not.toThrow();
  });
});
