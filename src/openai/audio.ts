import * as v from "valibot";
import { NonEmpty } from "./schemas.ts";

/**
 * The text fields of a `/v1/audio/transcriptions` form, validated only as far as routing
 * needs: `model`, and `stream` as the OpenAI clients send a boolean form field ("true" or
 * "false"). The `file` part is checked for presence by the parse stage (it is not a text
 * field); `language`, `prompt`, `response_format`... are the pod's to judge.
 */
export const TranscriptionFormSchema = v.looseObject({
  model: NonEmpty,
  stream: v.optional(v.picklist(["true", "false"], "'true' or 'false'")),
});

/** The form's file field, as OpenAI names it. */
export const TRANSCRIPTION_FILE_FIELD = "file";
