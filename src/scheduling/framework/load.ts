import type { Endpoint } from "../../endpoints/types.ts";
import type { EffectiveLoad, InFlightView } from "./interfaces.ts";

/**
 * Assumed load: what this gateway sent to an endpoint that its last metrics scrape
 * cannot know yet, so a burst between two scrapes spreads instead of piling onto the
 * endpoint that looked idlest at the last scrape.
 *
 * Formula. Let I(t) be the gateway's in-flight count for the endpoint (exact, live), T
 * the time of the snapshot being used, and B the in-flight count the tracker saw when it
 * first met that snapshot. Then
 *
 *   assumed  = I(now) - B                    (net sends minus completions since T)
 *   waiting  = max(0, waitingQueueSize + assumed)
 *   running  = max(0, runningRequests + assumed)
 *
 * Why this and not `max(0, I - (waiting + running))`: the scraped counts include other
 * gateway replicas' traffic, which would hide our own new requests; a delta of our own
 * in-flight since the snapshot does not depend on anybody else's load. It is exact when
 * nothing but our traffic changes after T. A negative delta (our requests finished since
 * T) lowers the estimate, as those requests were in the scraped counts.
 *
 * B is taken at the first decision that sees the snapshot, not at T itself. The gateway
 * only sends right after a decision, so the sends this misses are those made while the
 * scrape itself was in flight (one scrape round trip, a few ms); completions in the
 * window make the estimate err high. An endpoint that was never scraped (`updatedAt` 0)
 * has B = 0: all of its in-flight requests are assumed.
 *
 * The tracker keeps one small record per endpoint; `forget`/`retain` drop departed
 * endpoints and a hard cap (`maxEndpoints`) clears it should nobody call them.
 */
export class LoadTracker {
  private readonly base = new Map<string, { updatedAt: number; inflight: number }>();

  constructor(private readonly maxEndpoints = 10_000) {}

  /** Requests sent since the snapshot (net of completions); see the class comment. */
  assumed(endpoint: Endpoint, inflight: InFlightView): number {
    const now = inflight.get(endpoint.name);
    const updatedAt = endpoint.metrics.updatedAt;
    if (updatedAt === 0) return now;
    const b = this.base.get(endpoint.name);
    if (b !== undefined && b.updatedAt === updatedAt) return now - b.inflight;
    if (b === undefined && this.base.size >= this.maxEndpoints) this.base.clear();
    this.base.set(endpoint.name, { updatedAt, inflight: now });
    return 0;
  }

  load(endpoint: Endpoint, inflight: InFlightView): EffectiveLoad {
    const assumed = this.assumed(endpoint, inflight);
    const m = endpoint.metrics;
    return {
      waiting: Math.max(0, m.waitingQueueSize + assumed),
      running: Math.max(0, m.runningRequests + assumed),
      assumed,
    };
  }

  forget(name: string): void {
    this.base.delete(name);
  }

  retain(names: Iterable<string>): void {
    const keep = new Set(names);
    for (const name of [...this.base.keys()]) if (!keep.has(name)) this.base.delete(name);
  }

  get size(): number {
    return this.base.size;
  }
}
