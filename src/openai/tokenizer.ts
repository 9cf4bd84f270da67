import * as v from "valibot";
import { Messages, NonEmpty } from "./schemas.ts";

/**
 * vLLM's `/tokenize` and `/detokenize` bodies, validated only as far as routing needs.
 * The model is required here although vLLM defaults it: the gateway routes by it.
 */

/** `/tokenize`: a completion-style `prompt`, or chat `messages` (which one: the route's `oneOf`). */
export const TokenizeSchema = v.looseObject({
  model: NonEmpty,
  prompt: v.optional(v.string("a string")),
  messages: v.optional(Messages),
});

const TokenId = v.pipe(v.number("a token id"), v.integer("a token id"), v.minValue(0, "a token id"));

/** `/detokenize`: the token ids to turn back into text. */
export const DetokenizeSchema = v.looseObject({
  model: NonEmpty,
  tokens: v.array(TokenId, "a list of token ids"),
});
