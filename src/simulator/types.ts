/** What flows between the HTTP layer and the engine for one generation request. */

export interface GenerationResult {
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
  finishReason: "stop" | "length";
}

/** Why a request stopped early: client gone, simulator closed, or an injected fault. */
export type AbortReason = "cancelled" | "closed" | "fault";

/** Receives a request's progress. Exactly one of onFinish/onAbort is called, once. */
export interface GenerationSink {
  /** Output token `index` (0-based) was produced; `cachedTokens` is known from here on. */
  onToken(index: number, cachedTokens: number): void;
  onFinish(result: GenerationResult): void;
  onAbort(reason: AbortReason): void;
}

export interface GenerationRequest {
  /** LoRA adapter, undefined for the base model. */
  adapter: string | undefined;
  prompt: string;
  promptTokens: number;
  /** 0 for a pooling request: it finishes after prefill. */
  outputTokens: number;
  finishReason: "stop" | "length";
  /** Fault injection: abort after this many tokens. */
  breakAfterTokens?: number;
  sink: GenerationSink;
}
