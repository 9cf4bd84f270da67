import type { GatewayError } from "../../errors.ts";

/**
 * In-flight eviction (llm-d-router v0.10 `flowControl.enableEviction: true`): when a band
 * has requests queued because no endpoint has room, in-flight requests of strictly lower,
 * negative (sheddable) priority are ended to make room, as upstream does:
 *
 * - only leases with priority < 0 are revocable (upstream's sheddable-eviction-filter);
 * - lowest priority first, ties newest dispatch first (priority-then-time order: least
 *   work thrown away);
 * - one revocation per decision, and no new decision until every revoked request has
 *   ended and a short grace has passed (upstream's confirmation-gated pacing; its
 *   deficit-based sizing is capped at 2 and mostly issues 1 at the ceiling boundary);
 * - the evicted client gets 429 `evicted` (upstream's status for evicted requests).
 */

/** Wait after the last revoked request ended before the next decision (upstream: 10 ms for the concurrency detector). */
export const EVICTION_GRACE_MS = 10;

/** An admitted request that may be revoked. */
export interface Lease {
  readonly priority: number;
  readonly seq: number;
  readonly evict: (err: GatewayError) => void;
}

export class Evictions {
  private readonly leases = new Set<Lease>();
  /** Revoked leases whose request has not ended yet. */
  private readonly revoking = new Set<Lease>();
  private coolUntil = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly now: () => number,
    private readonly setTimer: (fn: () => void, ms: number) => () => void,
    private readonly wake: () => void,
  ) {}

  /** Tracks a dispatched sheddable request; the returned function untracks it when it ends. */
  track(lease: Lease): () => void {
    this.leases.add(lease);
    return () => {
      this.leases.delete(lease);
      if (!this.revoking.delete(lease)) return;
      if (this.revoking.size === 0) {
        this.coolUntil = this.now() + EVICTION_GRACE_MS;
        this.setTimer(this.wake, EVICTION_GRACE_MS);
      }
    };
  }

  /**
   * Called when a band of `priority` has requests queued and found no room: revokes the
   * next victim below it, if the pacing gate is open. True if one was revoked.
   */
  relieve(priority: number, error: (victim: Lease) => GatewayError): boolean {
    if (this.revoking.size > 0 || this.now() < this.coolUntil) return false;
    let victim: Lease | undefined;
    for (const l of this.leases)
      if (!victim || l.priority < victim.priority || (l.priority === victim.priority && l.seq > victim.seq))
        victim = l;
    if (!victim || victim.priority >= priority) return false;
    this.leases.delete(victim);
    this.revoking.add(victim);
    victim.evict(error(victim));
    return true;
  }

  get size(): number {
    return this.leases.size;
  }
}
