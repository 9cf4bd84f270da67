import type { Endpoint } from "../endpoints/types.ts";
import type { ApiKind } from "../request.ts";

/** What a scheduler may look at for one request. */
export interface SchedulingRequest {
  readonly requestId: string;
  /** The model the pod will be asked for (after rewrite). */
  readonly targetModel: string;
  readonly body: Record<string, unknown>;
  readonly headers: Headers;
  /** The API (chat, responses, embeddings...): where the body keeps its prompt. Absent: read by shape. */
  readonly kind?: ApiKind;
}

/**
 * What `forward` calls once per request with the endpoint that actually served (not the
 * scheduled primary when a fallback answered), so plugins such as prefix recording and
 * session affinity follow the real outcome. Calls after the first of each kind are ignored.
 */
export interface RequestLifecycle {
  /**
   * The pod call was made (`schedule(..., deferred)` only): the decision's PreRequest hooks
   * and metrics run here. The caller calls it in the same synchronous turn as `schedule`,
   * right after the call leaves, so no other request is scheduled before the hooks' effects
   * (prefix record, in-flight tokens, LRU) are in place; `responseReceived` and
   * `responseComplete` run it first if it was not called.
   */
  requestSent?(): void;
  /** The serving endpoint's headers arrived; hooks may add to `headers` (sent to the client). */
  responseReceived(endpoint: Endpoint, response: { status: number; headers: Headers }): void;
  /**
   * One chunk of a streamed answer reached the client; present only when some plugin has
   * a ResponseStreaming hook, so a request pays nothing per chunk otherwise.
   */
  responseStreaming?(bytes: Uint8Array): void;
  /**
   * The request ended with the request scope's outcome, answered or not (the schedule
   * stage holds this on the scope, so it runs exactly once for every scheduled request).
   */
  responseComplete(outcome: string): void;
}

/** A decision: endpoints in preference order, and the request's lifecycle hooks when it has any. */
export interface Scheduled {
  readonly endpoints: readonly Endpoint[];
  readonly lifecycle?: RequestLifecycle;
}

/**
 * The narrow interface the schedule stage needs. Returns endpoints in preference
 * order: the first is the primary, the rest are fallbacks for the proxy. An empty
 * result means no candidate was acceptable.
 */
export interface Scheduler {
  /**
   * With `deferred`, a picked decision's PreRequest hooks and decision metrics wait for
   * `lifecycle.requestSent()` (see there), so the pod call does not wait for them; without
   * it (and in a scheduler that ignores it) they run here, before this returns.
   */
  schedule(request: SchedulingRequest, candidates: readonly Endpoint[], deferred?: boolean): Scheduled;
  /**
   * The fairness id the configured PreAdmission plugins derive from the request's
   * headers (the parse stage asks when the client sent none); undefined when none does.
   */
  fairnessIdFor?(headers: Headers): string | undefined;
}
