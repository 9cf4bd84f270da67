import type { Endpoint } from "./endpoints/types.ts";

/** The two OpenAI endpoints the gateway routes. */
export type ApiKind = "chat" | "completions";

/** A validated inference request, as the parse stage leaves it. */
export interface InferenceRequest {
  readonly kind: ApiKind;
  /** Upstream path, e.g. `/v1/chat/completions`. */
  readonly path: string;
  /** The model the client asked for. */
  readonly model: string;
  readonly stream: boolean;
  /** Parsed JSON body (validated fields plus everything else, untouched). */
  readonly body: Record<string, unknown>;
  /** The original body bytes: forwarded as they came unless the model is rewritten. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** InferenceObjective name from `x-gateway-inference-objective`. */
  readonly objective: string | undefined;
  /** Flow / tenant id from `x-gateway-inference-fairness-id`, default `default-flow`. */
  readonly fairnessId: string;
  /** Initial target from `x-gateway-model-name-rewrite`, if any. */
  readonly modelRewriteHeader: string | undefined;
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
