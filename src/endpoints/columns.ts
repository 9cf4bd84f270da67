import type { Endpoint, MetricsSnapshot, ScrapeStatus } from "./types.ts";

/**
 * What a decision reads of every candidate, kept by the pool's endpoint store in typed
 * arrays indexed by a slot per endpoint, written where it changes (a scrape lands, a scrape
 * starts or ends, a request starts or ends) instead of read from each endpoint's objects
 * per request (issue 19, twenty-third pass). A decision at 64 endpoints read ~6 objects an
 * endpoint (the endpoint, its snapshot and cache config, its scrape status, an in-flight Map
 * entry, the load tracker's record), scattered over the heap and replaced at each scrape:
 * end to end each endpoint cost ~3× what it costs in a loop that keeps them in cache. The
 * columns are a few contiguous blocks that stay where they are.
 *
 * The endpoint objects stay the source of truth for everything else (and for code handed
 * arrays the store did not make): the store writes a column whenever it swaps the field it
 * mirrors, so the two never disagree for the store's own endpoints.
 */
export class EndpointColumns {
  /** Scraped `waitingQueueSize` by slot. */
  waiting = new Float64Array(0);
  /** Scraped `runningRequests` by slot. */
  running = new Float64Array(0);
  /** Scraped `kvCacheUsage` by slot. */
  kvUsage = new Float64Array(0);
  /** The snapshot's `updatedAt` by slot (0: never scraped). */
  updatedAt = new Float64Array(0);
  /** The snapshot's `cache.blockSize` by slot (0: not reported). */
  blockSize = new Float64Array(0);
  /** The scrape status's `failures` by slot; −1 while the endpoint has no scrape status. */
  failures = new Float64Array(0);
  /** The scrape status's `lateAt` by slot; NaN when none. */
  lateAt = new Float64Array(0);
  /** The gateway's in-flight count by slot, written by the `InFlight` it was bound to. */
  inflight = new Float64Array(0);
  /**
   * Bumped each time a slot is given to a name (starting at 1), so whoever keeps state by
   * slot (the load tracker's baselines) can tell a reused slot from the endpoint it knew.
   */
  gen = new Uint32Array(0);
  /** The InFlight whose counts `inflight` holds (undefined: none bound; the column stays 0). */
  readonly counts: InFlightSource | undefined;

  private readonly slotByName = new Map<string, number>();
  private readonly free: number[] = [];
  private used = 0;
  /** The slots of the arrays the store made since its last rebuild, by array. */
  private slotsByArray = new WeakMap<readonly Endpoint[], Int32Array>();

  constructor(counts?: InFlightSource) {
    this.counts = counts;
  }

  /** True when `inflight` is the source the `inflight` column mirrors. */
  countsFrom(inflight: object): boolean {
    return this.counts !== undefined && (this.counts as object) === inflight;
  }

  /** Slots the columns hold (a reader sizing state of its own by slot grows to this). */
  get capacity(): number {
    return this.gen.length;
  }

  /** The name's slot, if the store holds that endpoint. */
  slot(name: string): number | undefined {
    return this.slotByName.get(name);
  }

  /** The endpoint's slot, given one (and its in-flight count bound) when it is new. */
  assign(name: string): number {
    const known = this.slotByName.get(name);
    if (known !== undefined) return known;
    const s = this.free.pop() ?? this.used++;
    if (s >= this.gen.length) this.grow(Math.max(8, 2 * this.gen.length));
    this.slotByName.set(name, s);
    this.gen[s] = (this.gen[s]! + 1) >>> 0 || 1;
    this.writeMetrics(s, EMPTY);
    this.writeScrape(s, undefined);
    this.inflight[s] = 0;
    this.counts?.bind(name, this, s);
    return s;
  }

  /** The endpoint left the store: its slot may be given to another. */
  release(name: string): void {
    const s = this.slotByName.get(name);
    if (s === undefined) return;
    this.slotByName.delete(name);
    this.counts?.unbind(name, this);
    this.free.push(s);
  }

  /** Stops mirroring the in-flight counts (the pool stopped): the counts keep no reference to these columns. */
  detach(): void {
    if (this.counts === undefined) return;
    for (const name of this.slotByName.keys()) this.counts.unbind(name, this);
  }

  /** The names holding a slot. */
  names(): IterableIterator<string> {
    return this.slotByName.keys();
  }

  writeMetrics(s: number, m: MetricsSnapshot): void {
    this.waiting[s] = m.waitingQueueSize;
    this.running[s] = m.runningRequests;
    this.kvUsage[s] = m.kvCacheUsage;
    this.updatedAt[s] = m.updatedAt;
    this.blockSize[s] = m.cache?.blockSize ?? 0;
  }

  writeScrape(s: number, scrape: ScrapeStatus | undefined): void {
    this.failures[s] = scrape === undefined ? -1 : scrape.failures;
    this.lateAt[s] = scrape?.lateAt ?? Number.NaN;
  }

  /**
   * Forgets the slots of every array indexed before (their endpoints may have left and their
   * slots gone to others); the store calls it as it rebuilds its arrays.
   */
  reindex(): void {
    this.slotsByArray = new WeakMap();
  }

  /** Remembers the slots of `endpoints`, an array the store made (every one holds a slot). */
  index(endpoints: readonly Endpoint[]): void {
    const slots = new Int32Array(endpoints.length);
    for (let i = 0; i < endpoints.length; i++) slots[i] = this.slotByName.get(endpoints[i]!.name)!;
    this.slotsByArray.set(endpoints, slots);
  }

  /**
   * Remembers the slots of `subset`: the endpoints of `parent` (an array the store made) at
   * `positions[0..count)`, in that order, taken from the parent's slots without reading an
   * endpoint. Flow control's room hands the decision such a subset when some endpoint is
   * full (twenty-fourth pass). `subset` must not change afterwards (as the store's own arrays).
   */
  indexSubset(
    parent: readonly Endpoint[],
    subset: readonly Endpoint[],
    positions: Int32Array,
    count: number,
  ): void {
    const from = this.slotsByArray.get(parent);
    if (from === undefined) return;
    const slots = new Int32Array(count);
    for (let j = 0; j < count; j++) slots[j] = from[positions[j]!]!;
    this.slotsByArray.set(subset, slots);
  }

  /** The slots of `endpoints` when it is an array the store made since its last rebuild. */
  slotsOf(endpoints: readonly Endpoint[]): Int32Array | undefined {
    return this.slotsByArray.get(endpoints);
  }

  private grow(n: number): void {
    this.waiting = grown(this.waiting, n);
    this.running = grown(this.running, n);
    this.kvUsage = grown(this.kvUsage, n);
    this.updatedAt = grown(this.updatedAt, n);
    this.blockSize = grown(this.blockSize, n);
    this.failures = grown(this.failures, n);
    this.lateAt = grown(this.lateAt, n);
    this.inflight = grown(this.inflight, n);
    this.gen = grown(this.gen, n);
  }
}

/** A copy of `a` lengthened to `n` (zeros after). */
export function grown<T extends Float64Array | Uint32Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

/** What the columns ask of the gateway's in-flight counts: to be told each endpoint's count as it changes. */
export interface InFlightSource {
  /** Writes `name`'s count into `columns.inflight[slot]` now and whenever it changes. */
  bind(name: string, columns: EndpointColumns, slot: number): void;
  unbind(name: string, columns: EndpointColumns): void;
}

const EMPTY: MetricsSnapshot = { waitingQueueSize: 0, runningRequests: 0, kvCacheUsage: 0, updatedAt: 0 };
