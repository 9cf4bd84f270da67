import { ChatCompletionSchema, CompletionSchema } from "./schemas.ts";
import type { BodySchema } from "./validate.ts";

/**
 * Hand-written checks that say "valid" for the usual chat and completions bodies without
 * running valibot (issue 19: valibot's safeParse was ~3 µs of a small chat request on Bun,
 * these checks a small fraction of that). Each check is only a SUFFICIENT condition: true
 * only for a body the route's valibot schema accepts; anything unusual (a wrong type, a
 * field shape it does not know) answers false and valibot judges it, so every 400's
 * message and `param` are still valibot's. Keep each check no looser than its schema in
 * schemas.ts (test/openai/fast-accept.test.ts compares them).
 */

type Body = Record<string, unknown>;

const absent = (v: unknown) => v === undefined || v === null;
const nonEmptyString = (v: unknown) => typeof v === "string" && v.length > 0;
const optNumber = (v: unknown) => absent(v) || typeof v === "number";
const optCount = (v: unknown, min: number) =>
  absent(v) || (typeof v === "number" && Number.isInteger(v) && v >= min);
const plainObject = (v: unknown): v is Body => typeof v === "object" && v !== null && !Array.isArray(v);

/** `Common` in schemas.ts: model, stream, stream_options, max_tokens, n, temperature, top_p. */
function common(b: Body): boolean {
  if (!nonEmptyString(b["model"])) return false;
  const stream = b["stream"];
  if (!absent(stream) && typeof stream !== "boolean") return false;
  const options = b["stream_options"];
  if (!absent(options)) {
    if (!plainObject(options)) return false;
    const usage = options["include_usage"];
    if (usage !== undefined && typeof usage !== "boolean") return false;
  }
  return (
    optCount(b["max_tokens"], 0) &&
    optCount(b["n"], 1) &&
    optNumber(b["temperature"]) &&
    optNumber(b["top_p"])
  );
}

/** A message with a non-empty role and string, absent, or typed-part content. */
function message(m: unknown): boolean {
  if (!plainObject(m) || !nonEmptyString(m["role"])) return false;
  const content = m["content"];
  if (absent(content) || typeof content === "string") return true;
  if (!Array.isArray(content)) return false;
  for (const part of content) if (!plainObject(part) || !nonEmptyString(part["type"])) return false;
  return true;
}

/** Whether ChatCompletionSchema surely accepts `b`. */
export function acceptsChat(b: Body): boolean {
  const messages = b["messages"];
  if (!common(b) || !optCount(b["max_completion_tokens"], 0)) return false;
  if (!Array.isArray(messages) || messages.length === 0) return false;
  for (const m of messages) if (!message(m)) return false;
  return true;
}

/** Whether CompletionSchema surely accepts `b` (a string prompt or a list of strings or token ids). */
export function acceptsCompletion(b: Body): boolean {
  if (!common(b)) return false;
  const prompt = b["prompt"];
  if (typeof prompt === "string") return true;
  if (!Array.isArray(prompt) || prompt.length === 0) return false;
  const kind = typeof prompt[0];
  if (kind !== "string" && kind !== "number") return false;
  for (const p of prompt) if (typeof p !== kind) return false;
  return true;
}

/** The fast check of a schema, where one exists. */
export const FAST_ACCEPT: ReadonlyMap<BodySchema, (body: Body) => boolean> = new Map<
  BodySchema,
  (body: Body) => boolean
>([
  [ChatCompletionSchema, acceptsChat],
  [CompletionSchema, acceptsCompletion],
]);
