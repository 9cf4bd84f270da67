/**
 * POST /tokenize and /detokenize of a simulated vLLM pod, in vLLM's formats:
 * `{model, prompt}` or `{model, messages}` -> `{count, max_model_len, tokens, token_strs?}`;
 * `{model, tokens}` -> `{prompt}`. Chat messages render as the chat route renders its
 * prompt, so the count is the prompt_tokens a chat request with them is billed. Not
 * engine requests: vLLM counts neither in its request metrics.
 */
import * as v from "valibot";
import { SimError } from "./errors.ts";
import type { ResolvedOptions } from "./options.ts";
import { contentText, invalid, resolveModel } from "./parse.ts";
import { Tokenizer } from "./tokenizer.ts";

const Message = v.looseObject({
  role: v.string(),
  content: v.nullish(
    v.union([v.string(), v.array(v.looseObject({ type: v.string(), text: v.nullish(v.string()) }))]),
  ),
});
const TokenizeSchema = v.looseObject({
  model: v.nullish(v.string()),
  prompt: v.optional(v.string()),
  messages: v.optional(v.pipe(v.array(Message), v.minLength(1))),
  return_token_strs: v.nullish(v.boolean()),
});
const DetokenizeSchema = v.looseObject({
  model: v.nullish(v.string()),
  tokens: v.array(v.pipe(v.number(), v.integer())),
});

export function tokenize(o: ResolvedOptions, tokenizer: Tokenizer, body: unknown): Response {
  const r = v.safeParse(TokenizeSchema, body);
  if (!r.success) throw invalid(r.issues);
  const b = r.output;
  resolveModel(o, b.model);
  let text: string;
  if (b.messages !== undefined)
    text = b.messages.map((m) => `${m.role}\n${contentText(m.content)}\n`).join("");
  else if (b.prompt !== undefined) text = b.prompt;
  else throw new SimError(400, "prompt: either `prompt` or `messages` is required", "prompt");
  const tokens = tokenizer.encode(text);
  return Response.json({
    count: tokens.length,
    max_model_len: o.maxModelLen,
    tokens,
    ...(b.return_token_strs ? { token_strs: Tokenizer.pieces(text) } : {}),
  });
}

export function detokenize(o: ResolvedOptions, tokenizer: Tokenizer, body: unknown): Response {
  const r = v.safeParse(DetokenizeSchema, body);
  if (!r.success) throw invalid(r.issues);
  resolveModel(o, r.output.model);
  try {
    return Response.json({ prompt: tokenizer.decode(r.output.tokens) });
  } catch (err) {
    throw new SimError(400, `tokens: ${(err as Error).message} is outside the vocabulary.`, "tokens");
  }
}
