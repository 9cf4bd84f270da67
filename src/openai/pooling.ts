import * as v from "valibot";
import { Messages, NonEmpty, Prompt } from "./schemas.ts";

/**
 * Bodies of the pooling routes vLLM serves (embeddings, rerank, score), validated only as
 * far as routing needs: the model, and the input present with a sane type. The rest
 * (`encoding_format`, `dimensions`, `top_n`, `truncate_prompt_tokens`...) is the pod's to judge.
 */

/** vLLM's multimodal score input: `{"content": [parts]}`. */
const MultiModal = v.looseObject({ content: v.array(v.unknown(), "a list of content parts") });

/** `/v1/embeddings`: `input` as OpenAI takes it, or vLLM's chat-style `messages`. */
export const EmbeddingsSchema = v.looseObject({
  model: NonEmpty,
  input: v.optional(Prompt),
  messages: v.optional(Messages),
});

/** `/v1/rerank` (Jina/Cohere style, as vLLM serves it): a query and the documents to rank. */
export const RerankSchema = v.looseObject({
  model: NonEmpty,
  query: v.union([v.string(), MultiModal], "a string"),
  documents: v.union(
    [v.pipe(v.array(v.unknown()), v.minLength(1)), MultiModal],
    "a non-empty list of documents",
  ),
});

const ScoreSide = v.union(
  [v.string(), v.pipe(v.array(v.unknown()), v.minLength(1)), MultiModal],
  "a string or a non-empty list",
);

/**
 * `/v1/score`: two sides to score against each other, under any of the names vLLM takes
 * (`text_1`/`text_2`, `queries` with `documents` or `items`, `data_1`/`data_2`); which
 * pair is present is checked by the route's `oneOf`.
 */
export const ScoreSchema = v.looseObject({
  model: NonEmpty,
  text_1: v.optional(ScoreSide),
  text_2: v.optional(ScoreSide),
  queries: v.optional(ScoreSide),
  documents: v.optional(ScoreSide),
  items: v.optional(ScoreSide),
  data_1: v.optional(ScoreSide),
  data_2: v.optional(ScoreSide),
});

/** The field pairs of which a score body must carry one. */
export const SCORE_PAIRS = [
  ["text_1", "text_2"],
  ["queries", "documents"],
  ["queries", "items"],
  ["data_1", "data_2"],
] as const;
