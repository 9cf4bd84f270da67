import * as v from "valibot";
import { NonEmpty, Stream } from "./schemas.ts";

/**
 * The OpenAI Responses API body (`POST /v1/responses`), validated only as far as routing
 * needs: the model, `input` as text or a list of items, `stream`, and
 * `previous_response_id` (which pins the request to the pod holding that response).
 * Items, tools, `instructions`' use and the rest are the pod's to judge.
 */
export const ResponsesSchema = v.looseObject({
  model: NonEmpty,
  input: v.union(
    [v.string(), v.array(v.looseObject({}), "a list of input items")],
    "a string or a list of input items",
  ),
  instructions: v.optional(v.nullable(v.string("a string"))),
  stream: Stream,
  previous_response_id: v.optional(v.nullable(NonEmpty)),
});
