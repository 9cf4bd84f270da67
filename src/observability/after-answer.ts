/**
 * A request's bookkeeping written after its answer has left: the answer's metrics
 * (`recordAnswer`), the request series' counts and the one log line per request. At one
 * connection the runtime writes the answer when the handler's promise settles, and every
 * line of JavaScript before that is on the client's clock at ~40× its hot cost (an idle
 * core, cold caches: docs/overhead-streaming.md, sixth and tenth passes). The clock
 * readings (durations, TTFT, the end time) are still taken at the request's end, where they
 * were taken before; only what is done with them moves.
 *
 * Synchronous until `defer` is called (tests, in-process callers and embedders see every
 * record as soon as the request ends). The runtime entries defer to `setImmediate`: Bun and
 * Node write the answer at the handler's settle (a microtask) and run immediates after
 * that turn's I/O callbacks and before the next poll, so a request read after an answer
 * went out (a /metrics scrape, the next request of the same client) finds its records
 * written. One callback per turn drains every record queued in it, in the order queued;
 * `drain()` writes them at once (shutdown, a reader that must see them now).
 */
export interface Deferred {
  /** Writes what the request's end recorded; called once, from `AfterAnswer.add` or a drain. */
  write(): void;
}

/** How a drain is scheduled: `setImmediate`, or a test's own queue. */
export type Later = (run: () => void) => void;

export class AfterAnswer {
  private queue: Deferred[] = [];
  private later: Later | undefined;
  private scheduled = false;
  private draining = false;
  /** One function for every turn's drain (no closure per request or per turn). */
  private readonly drainTurn = () => {
    this.scheduled = false;
    this.drain();
  };

  /** From now on, records wait for `later` (undefined: written at once again, after a drain). */
  defer(later: Later | undefined): void {
    this.drain();
    this.later = later;
  }

  /** Whether records wait for a drain (the runtime entries) or are written at once. */
  get deferred(): boolean {
    return this.later !== undefined;
  }

  /** How many records wait. */
  get pending(): number {
    return this.queue.length;
  }

  /** Writes `item` now (synchronous mode), or after the answer (one drain a turn). */
  add(item: Deferred): void {
    const later = this.later;
    if (later === undefined) {
      write(item);
      return;
    }
    this.queue.push(item);
    if (!this.scheduled) {
      this.scheduled = true;
      later(this.drainTurn);
    }
  }

  /**
   * Writes every waiting record, in the order added; one that throws does not skip the
   * others. A record added while draining is written in the same drain, after the others.
   */
  drain(): void {
    if (this.draining) return;
    this.draining = true;
    const q = this.queue;
    try {
      for (let i = 0; i < q.length; i++) write(q[i]!);
    } finally {
      q.length = 0;
      this.draining = false;
    }
  }
}

/** As RequestScope.end releases: a failing record is reported and the others still written. */
function write(item: Deferred): void {
  try {
    item.write();
  } catch (err) {
    console.error("release failed", err);
  }
}
