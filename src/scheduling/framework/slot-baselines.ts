import { type EndpointColumns, grown } from "../../endpoints/columns.ts";

/**
 * The load tracker's baselines (B, its snapshot's time, KV per request; see load.ts) for the
 * endpoints of a pool's store, by the store's slot (src/endpoints/columns.ts): what
 * `LoadTracker` keeps by name for endpoints no store holds, kept here in columns so a decision
 * over the store's array reads no object (issue 19, twenty-third pass). A record is valid
 * while it holds its slot's generation: a slot given to another endpoint starts without one.
 */
export class SlotBaselines {
  private gen = new Uint32Array(0);
  private updatedAt = new Float64Array(0);
  private inflight = new Float64Array(0);
  private kv = new Float64Array(0);
  /** KV per request of the endpoint of the last `assumed` call (its second answer). */
  kvPerRequest = 0;

  /** Room for the store's slots (`columns.capacity`). */
  fit(capacity: number): void {
    if (this.gen.length >= capacity) return;
    this.gen = grown(this.gen, capacity);
    this.updatedAt = grown(this.updatedAt, capacity);
    this.inflight = grown(this.inflight, capacity);
    this.kv = grown(this.kv, capacity);
  }

  /**
   * The assumed requests of the endpoint at slot `s` (generation `gen`) whose snapshot says
   * `updatedAt`, `waitingQueueSize`, `runningRequests`, `kvCacheUsage`, with `now` in flight:
   * load.ts's rule, as `LoadTracker.recordWith` applies it by name. Leaves `kvPerRequest`.
   */
  assumed(
    gen: number,
    s: number,
    updatedAt: number,
    waitingQueueSize: number,
    runningRequests: number,
    kvCacheUsage: number,
    now: number,
  ): number {
    const unreported = now - (waitingQueueSize + runningRequests);
    const has = this.gen[s] === gen;
    if (has && this.updatedAt[s] === updatedAt) {
      this.kvPerRequest = this.kv[s]!;
      return Math.max(now - this.inflight[s]!, unreported);
    }
    const kvPerRequest = runningRequests > 0 ? kvCacheUsage / runningRequests : has ? this.kv[s]! : 0;
    this.kvPerRequest = kvPerRequest;
    if (updatedAt === 0) return now;
    this.gen[s] = gen;
    this.updatedAt[s] = updatedAt;
    this.inflight[s] = now;
    this.kv[s] = kvPerRequest;
    return Math.max(0, unreported);
  }

  /** `assumed` for slot `s`, its snapshot and in-flight count read from the store's columns. */
  assumedAt(cols: EndpointColumns, s: number): number {
    return this.assumed(
      cols.gen[s]!,
      s,
      cols.updatedAt[s]!,
      cols.waiting[s]!,
      cols.running[s]!,
      cols.kvUsage[s]!,
      cols.inflight[s]!,
    );
  }

  /** Drops slot `s`'s record. */
  drop(s: number): void {
    if (s < this.gen.length) this.gen[s] = 0;
  }

  /** Records held for the store's current endpoints. */
  held(cols: EndpointColumns): number {
    let n = 0;
    for (const name of cols.names()) {
      const s = cols.slot(name)!;
      if (s < this.gen.length && this.gen[s] !== 0 && this.gen[s] === cols.gen[s]) n++;
    }
    return n;
  }
}
