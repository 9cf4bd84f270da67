import type { Clock } from "./clock.ts";

export type Outcome = "success" | "error" | "aborted";

/** Anything that must be given back when a request ends (flow-control slot, in-flight count...). */
export interface Releasable {
  release(outcome: Outcome): void;
}

/** What the request log line says about one request; stages fill in what they learn. */
export interface RequestLog {
  endpoint?: string;
  priority?: number;
  queueMs?: number;
  ttftMs?: number;
  promptTokens?: number;
  completionTokens?: number;
  cachedTokens?: number;
  error?: string;
}

/**
 * Per-request resources, released exactly once however the request ends: a normal
 * end, an error before or during the stream, or the client going away. Stages
 * `hold()` what they take; whoever sees the end calls `end()`; later calls are no-ops.
 * A subclass's `released` runs last, once, as a resource held before all others would.
 */
export class RequestScope {
  readonly receivedAt: number;
  /** Set by forward when the response body is a live stream that will call end() itself. */
  streaming = false;
  status = 0;
  readonly log: RequestLog = {};
  /**
   * When `end` ran (the clock's ms), read once there for every holder that times the
   * request (its duration, the answer's end): one clock reading, not one per holder.
   */
  endedAt = 0;
  private readonly held: Releasable[] = [];
  private ended = false;

  constructor(readonly clock: Clock) {
    this.receivedAt = clock.now();
  }

  hold(resource: Releasable): void {
    if (this.ended) resource.release("aborted");
    else this.held.push(resource);
  }

  end(outcome: Outcome): void {
    if (this.ended) return;
    this.ended = true;
    this.endedAt = this.clock.now();
    // Release in reverse order of acquisition; one failing release must not skip the others.
    for (let i = this.held.length - 1; i >= 0; i--) {
      try {
        this.held[i]!.release(outcome);
      } catch (err) {
        console.error("release failed", err);
      }
    }
    this.held.length = 0;
    try {
      this.released(outcome);
    } catch (err) {
      console.error("release failed", err);
    }
  }

  /**
   * Called once at the end, after every held resource (the scope stage writes the request's
   * metrics and line here: one object a request fewer than a resource held first; issue 19,
   * fourteenth pass). Nothing by default.
   */
  protected released(_outcome: Outcome): void {}
}
