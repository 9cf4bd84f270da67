import * as v from "valibot";
import { NonEmpty, Stream } from "./schemas.ts";

/**
 * Anthropic's Messages API body (`POST /v1/messages`, which vLLM serves), validated only
 * as far as routing needs and as Anthropic requires: `model`, a non-empty `messages` list
 * of `{role, content}` with string or content-block content, and `max_tokens` >= 1
 * (required by Anthropic and by vLLM). `system` may be a string or a list of blocks.
 */
const Block = v.looseObject({ type: NonEmpty });
const Content = v.union([v.string(), v.array(Block)], "a string or a list of content blocks");

export const AnthropicMessagesSchema = v.looseObject({
  model: NonEmpty,
  messages: v.pipe(
    v.array(v.looseObject({ role: NonEmpty, content: Content }), "a list of messages"),
    v.minLength(1, "at least one message"),
  ),
  max_tokens: v.pipe(v.number("an integer"), v.integer("an integer"), v.minValue(1, "an integer >= 1")),
  system: v.optional(v.nullable(Content)),
  stream: Stream,
});

/**
 * `POST /v1/messages/count_tokens` (Anthropic's, which vLLM serves): the same `model`,
 * `messages` and `system` as a message, no `max_tokens`; the answer is `{input_tokens}`.
 */
export const AnthropicCountTokensSchema = v.looseObject({
  model: NonEmpty,
  messages: AnthropicMessagesSchema.entries.messages,
  system: AnthropicMessagesSchema.entries.system,
});
