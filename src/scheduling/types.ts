import type { Endpoint } from "../endpoints/types.ts";

/** What a scheduler may look at for one request. */
export interface SchedulingRequest {
  readonly requestId: string;
  /** The model the pod will be asked for (after rewrite). */
  readonly targetModel: string;
  readonly body: Record<string, unknown>;
  readonly headers: Headers;
}

/**
 * The narrow interface the schedule stage needs. Returns endpoints in preference
 * order: the first is the primary, the rest are fallbacks for the proxy. An empty
 * result means no candidate was acceptable.
 */
export interface Scheduler {
  schedule(request: SchedulingRequest, candidates: readonly Endpoint[]): readonly Endpoint[];
  /** A response header that brings a session back to `endpoint` (session affinity), if any. */
  sessionHeader?(endpoint: Endpoint): [string, string] | undefined;
}
