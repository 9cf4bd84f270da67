import * as v from "valibot";

/**
 * Just enough validation of OpenAI request bodies to fail bad input early with a
 * 400 that names the field. Fields we do not inspect pass through untouched: pods
 * (vLLM, SGLang...) accept many extensions, and they stay the judge of those.
 */

/** A non-empty string, e.g. the `model` every route is routed by. */
export const NonEmpty = v.pipe(v.string("a string"), v.minLength(1, "a non-empty string"));
const Count = v.pipe(v.number("an integer"), v.integer("an integer"), v.minValue(0, "an integer >= 0"));
/** `stream` as OpenAI's APIs take it: a boolean, or null for the default. */
export const Stream = v.optional(v.nullable(v.boolean("a boolean")));

const StreamOptions = v.looseObject({ include_usage: v.optional(v.boolean("a boolean")) });

const Common = {
  model: NonEmpty,
  stream: Stream,
  stream_options: v.optional(v.nullable(StreamOptions)),
  max_tokens: v.optional(v.nullable(Count)),
  n: v.optional(
    v.nullable(v.pipe(v.number("an integer"), v.integer("an integer"), v.minValue(1, "an integer >= 1"))),
  ),
  temperature: v.optional(v.nullable(v.number("a number"))),
  top_p: v.optional(v.nullable(v.number("a number"))),
};

const ContentPart = v.looseObject({ type: NonEmpty });

/** A chat message: a role and string or content-part content (also what vLLM's chat-style embeddings and tokenize take). */
export const Message = v.looseObject({
  role: NonEmpty,
  content: v.optional(
    v.nullable(v.union([v.string(), v.array(ContentPart)], "a string or a list of content parts")),
  ),
});

/** A non-empty list of chat messages. */
export const Messages = v.pipe(
  v.array(Message, "a list of messages"),
  v.minLength(1, "at least one message"),
);

export const ChatCompletionSchema = v.looseObject({
  ...Common,
  messages: Messages,
  max_completion_tokens: v.optional(v.nullable(Count)),
});

/** Completions' `prompt` (and embeddings' `input`): text, texts, token ids or lists of token ids. */
export const Prompt = v.union(
  [
    v.string(),
    v.pipe(v.array(v.string()), v.minLength(1)),
    v.pipe(v.array(v.number()), v.minLength(1)),
    v.pipe(v.array(v.array(v.number())), v.minLength(1)),
  ],
  "a string, a list of strings or a list of token ids",
);

export const CompletionSchema = v.looseObject({ ...Common, prompt: Prompt });
