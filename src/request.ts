import type { Endpoint } from "./endpoints/types.ts";

/**
 * The inference APIs the gateway routes by the body's model (see src/openai/routes.ts
 * for each one's paths, body format and what the gateway does on it).
 */
export type ApiKind =
  | "chat"
  | "completions"
  | "embeddings"
  | "responses"
  | "messages"
  | "rerank"
  | "score"
  | "tokenize"
  | "detokenize"
  | "transcriptions";

/** A validated inference request, as the parse stage leaves it. */
export interface InferenceRequest {
  readonly kind: ApiKind;
  /** Upstream path, e.g. `/v1/chat/completions`. */
  readonly path: string;
  /** The model the client asked for. */
  readonly model: string;
  /** True only on a route that can stream and when the client asked to. */
  readonly stream: boolean;
  /**
   * Parsed JSON body (validated fields plus everything else, untouched). For a multipart
   * route (`transcriptions`): the form's text fields as strings (a repeated field as a list
   * of strings), the file parts left out.
   */
  readonly body: Record<string, unknown>;
  /** The original body bytes (JSON or multipart): forwarded as they came unless the model is rewritten. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** InferenceObjective name from `x-gateway-inference-objective`. */
  readonly objective: string | undefined;
  /** Flow / tenant id from `x-gateway-inference-fairness-id`, default `default-flow`. */
  readonly fairnessId: string;
  /** Initial target from `x-gateway-model-name-rewrite`, if any. */
  readonly modelRewriteHeader: string | undefined;
  /**
   * Responses API `previous_response_id`: the request should go to the pod that holds
   * that response (while it is healthy), which keeps the conversation's state.
   */
  readonly previousResponseId?: string;
}

/** Outcome of the rewrite stage. */
export interface TargetModel {
  readonly requested: string;
  /** The model the pod will be asked for. */
  readonly target: string;
  /** metadata.name of the InferenceModelRewrite that decided, if one did. */
  readonly rewriteName: string | undefined;
}

/** Outcome of the admit stage. */
export interface Admission {
  readonly priority: number;
  readonly fairnessId: string;
  /** Milliseconds the request waited in the flow-control queue. */
  readonly queuedMs: number;
}

/** Ordered endpoints from the schedule stage: primary first, then fallbacks. */
export type ScheduledEndpoints = readonly Endpoint[];
