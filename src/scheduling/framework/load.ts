import type { EndpointColumns } from "../../endpoints/columns.ts";
import type { Endpoint } from "../../endpoints/types.ts";
import type { EffectiveLoad, InFlightView, LoadColumns } from "./interfaces.ts";
import {
  MIXED_BLOCK_SIZES,
  newColumns,
  SCRATCH_COUNTS,
  ScratchColumns,
  type SnapshotColumns,
  snapshotFields,
} from "./load-columns.ts";
import { SlotBaselines } from "./slot-baselines.ts";

export { MIXED_BLOCK_SIZES, newColumns, type SnapshotColumns } from "./load-columns.ts";

/**
 * Assumed load: what this gateway sent to an endpoint that its last metrics scrape
 * cannot know yet. A pool's one instance is shared by its scheduler (scorers spread
 * a burst between two scrapes) and its flow control (saturation detectors count a dispatch
 * at once, per endpoint): one model of "the load the pod has now", not two.
 *
 * Formula. Let I(t) be the gateway's in-flight count for the endpoint (exact, live), T
 * the time of the snapshot being used, and B the in-flight count the tracker saw when it
 * first met that snapshot. Then, with `extra` requests the caller is about to add,
 *
 *   assumed  = max(I(now) - B, I(now) - (waitingQueueSize + runningRequests)) + extra
 *              (net sends minus completions since T; never fewer than our own in-flight
 *              requests the pod did not report, which happens when a request or an answer
 *              was on the wire while the pod wrote its metrics)
 *   pod full at the scrape (waitingQueueSize > 0: it had no free slot, so its capacity is
 *   runningRequests), a queue: total = running + waiting + assumed,
 *     running = clamp(total, 0, runningRequests),  waiting = max(0, total - runningRequests)
 *   otherwise (free slots of unknown number):
 *     running = max(0, runningRequests + assumed),  waiting = max(0, assumed)
 *   kvUsage  = max(0, kvCacheUsage + (running - runningRequests) × k)
 *              k = kvCacheUsage / runningRequests of the latest snapshot with running > 0
 *   inflight = I(now) + extra
 *
 * On a pod with free slots a new request counts in both waiting and running: the
 * gateway does not know how many slots are free, so it assumes the worse for queueing
 * and the heavier for KV. On a full pod, sends join its queue and completions drain the
 * queue before they free a slot. The next scrape replaces the guess with the truth.
 *
 * Why a delta and not `max(0, I - (waiting + running))`: the scraped counts include
 * other gateway replicas' traffic, which would hide our own new requests; a delta of
 * our own in-flight since the snapshot does not depend on anybody else's load. It is
 * exact when nothing but our traffic changes after T. A negative delta (our requests
 * finished since T) lowers the estimate at once, as those requests were in the scraped
 * counts: a freed slot is seen when the answer ends, not one scrape later.
 *
 * B is taken at the first use that sees the snapshot, not at T itself; flow control
 * looks at every fresh snapshot as it lands (metrics refresh wakes the dispatcher), so
 * the sends this misses are those made while the scrape itself was in flight. An
 * endpoint that was never scraped (`updatedAt` 0) has B = 0: all of its in-flight
 * requests are assumed.
 *
 * The tracker keeps one small record per endpoint; `forget`/`retain` drop departed
 * endpoints and a hard cap (`maxEndpoints`) clears it should nobody call them. A pool's
 * tracker is given its endpoint store's columns (src/endpoints/columns.ts): the records of
 * the store's endpoints are then kept by slot, in columns of its own, and `fill` over an
 * array the store made reads only columns (issue 19, twenty-third pass).
 */
export class LoadTracker {
  private readonly base = new Map<string, Baseline>();
  /**
   * `fill`'s records of the last endpoints array, by position: a pool's candidates are the
   * same frozen array request after request (until the endpoint set changes), so the
   * records are found by name once, not once per endpoint per request (issue 19, eighth
   * pass). A slot is used only while its record still holds that endpoint's name and no
   * record has left `base` since (`epoch`, bumped by forget, retain and the cap).
   */
  private slotsOf: readonly Endpoint[] | undefined = undefined;
  private slots: (Baseline | undefined)[] = [];
  private slotsEpoch = 0;
  private epoch = 0;

  /**
   * Decisions' columns by candidate count, lent to one decision at a time (`borrow`,
   * `giveBack`): a pool's decisions ask for the same few counts, and six typed arrays a
   * decision were its largest cost per endpoint (issue 19, twenty-second pass: a decision at 64
   * endpoints in process 6.1-6.6 → 5.2-5.9 µs on Bun, 19.8 → 9.4 on Node; nothing measurable
   * at 4: docs/scheduling.md §6). At most `SCRATCH_COUNTS`
   * counts are kept; others (and a count already lent: a decision inside a decision) get
   * columns of their own.
   */
  private readonly scratch = new Map<number, ScratchColumns>();

  private readonly maxEndpoints: number;
  /** The pool store's columns (undefined: a tracker of its own, every record by name). */
  private readonly columns: EndpointColumns | undefined;
  /** The records of the store's endpoints, by slot. */
  private readonly bySlot = new SlotBaselines();

  constructor(opts: { maxEndpoints?: number; columns?: EndpointColumns } = {}) {
    this.maxEndpoints = opts.maxEndpoints ?? 10_000;
    this.columns = opts.columns;
  }

  /** Columns for `n` candidates for one decision; `giveBack` them when it ends. */
  borrow(n: number): SnapshotColumns {
    let c = this.scratch.get(n);
    if (c === undefined) {
      c = new ScratchColumns(n, true);
      if (this.scratch.size < SCRATCH_COUNTS) this.scratch.set(n, c);
    } else if (c.lent) return newColumns(n);
    c.lent = true;
    return c;
  }

  /** The decision that borrowed `c` is over: its columns may be written again. */
  giveBack(c: SnapshotColumns): void {
    (c as ScratchColumns).lent = false;
  }

  /** Requests sent since the snapshot (net of completions); see the class comment. */
  assumed(endpoint: Endpoint, inflight: InFlightView): number {
    return this.record(endpoint, inflight.get(endpoint.name));
  }

  /** The endpoint's load now, plus `extra` requests not sent yet (what-if for flow control). */
  load(endpoint: Endpoint, inflight: InFlightView, extra = 0): EffectiveLoad {
    const one = this.one;
    this.into(endpoint, inflight.get(endpoint.name), extra, one, 0);
    return {
      waiting: one.waiting[0]!,
      running: one.running[0]!,
      kvUsage: one.kvUsage[0]!,
      inflight: one.inflight[0]!,
      assumed: one.assumed[0]!,
    };
  }

  /** `load` of each endpoint (no extra) into `out`'s columns at the endpoint's position: no object per endpoint. */
  fill(endpoints: readonly Endpoint[], inflight: InFlightView, out: LoadColumns | SnapshotColumns): void {
    const cols = this.columns;
    const slots = cols?.countsFrom(inflight) ? cols.slotsOf(endpoints) : undefined;
    if (slots !== undefined) {
      this.fillFromColumns(cols!, slots, out);
      return;
    }
    // Another array (a subset, or of endpoints the store does not hold): read each endpoint's
    // objects; records by slot for the store's endpoints, by name for the others.
    if (cols !== undefined) {
      this.fillByRecord(endpoints, inflight, out);
      return;
    }
    const n = endpoints.length;
    if (this.slotsOf !== endpoints || this.slotsEpoch !== this.epoch) {
      this.slotsOf = endpoints;
      this.slotsEpoch = this.epoch;
      this.slots.length = 0;
      for (let i = 0; i < n; i++) this.slots.push(undefined);
    }
    for (let i = 0; i < n; i++) {
      const endpoint = endpoints[i]!;
      const name = endpoint.name;
      const now = inflight.get(name);
      let b = this.slots[i];
      // (The epoch moves within this loop only when the cap clears every record.)
      if (b === undefined || b.name !== name || this.slotsEpoch !== this.epoch) b = this.base.get(name);
      const recorded = this.recordWith(endpoint, now, b);
      // A first snapshot made the record just now.
      this.slots[i] = b ?? (endpoint.metrics.updatedAt === 0 ? undefined : this.base.get(name));
      const m = endpoint.metrics;
      this.write(m.waitingQueueSize, m.runningRequests, m.kvCacheUsage, now, 0, recorded, out, i);
    }
    // What the other per-endpoint passes of a decision read, taken with the loads (see SnapshotColumns).
    if ("kvScore" in out) snapshotFields(endpoints, out);
  }

  /** `fill` through `record` for each endpoint (a pool tracker's arrays the store did not make). */
  private fillByRecord(
    endpoints: readonly Endpoint[],
    inflight: InFlightView,
    out: LoadColumns | SnapshotColumns,
  ): void {
    for (let i = 0; i < endpoints.length; i++) {
      const endpoint = endpoints[i]!;
      const now = inflight.get(endpoint.name);
      const m = endpoint.metrics;
      this.write(
        m.waitingQueueSize,
        m.runningRequests,
        m.kvCacheUsage,
        now,
        0,
        this.record(endpoint, now),
        out,
        i,
      );
    }
    if ("kvScore" in out) snapshotFields(endpoints, out);
  }

  /**
   * `fill` over an array the pool's store made: every field from the store's columns and the
   * records by slot, no endpoint object read (the same figures as the pass over the objects).
   */
  private fillFromColumns(
    cols: EndpointColumns,
    slots: Int32Array,
    out: LoadColumns | SnapshotColumns,
  ): void {
    const bySlot = this.bySlot;
    bySlot.fit(cols.capacity);
    const snap = "kvScore" in out ? out : undefined;
    const { waiting, running, kvUsage, blockSize, inflight } = cols;
    let reported = 0;
    let block = 0;
    let blockUniform = true;
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i]!;
      const now = inflight[s]!;
      const w = waiting[s]!;
      const r = running[s]!;
      const kv = kvUsage[s]!;
      const recorded = bySlot.assumedAt(cols, s);
      this.kvPerRequest = bySlot.kvPerRequest;
      this.write(w, r, kv, now, 0, recorded, out, i);
      if (snap === undefined) continue;
      reported += r + w;
      snap.kvScore[i] = 1 - kv;
      const size = blockSize[s]!;
      if (size > 0 && blockUniform) {
        if (block === 0) block = size;
        else if (size !== block) blockUniform = false;
      }
    }
    if (snap === undefined) return;
    snap.reported = reported;
    snap.blockSize = !blockUniform ? MIXED_BLOCK_SIZES : block === 0 ? undefined : block;
  }

  /** `load`'s columns for one endpoint with `now` in flight, written at `out[…][i]` (the formula above). */
  private into(endpoint: Endpoint, now: number, extra: number, out: LoadColumns, i: number): void {
    const recorded = this.record(endpoint, now);
    const m = endpoint.metrics;
    this.write(m.waitingQueueSize, m.runningRequests, m.kvCacheUsage, now, extra, recorded, out, i);
  }

  /**
   * The formula's columns for an endpoint whose snapshot reported `waitingQueueSize`,
   * `runningRequests` and `kvCacheUsage`, with `now` in flight and `recorded` assumed.
   */
  private write(
    waitingQueueSize: number,
    runningRequests: number,
    kvCacheUsage: number,
    now: number,
    extra: number,
    recorded: number,
    out: LoadColumns,
    i: number,
  ): void {
    const assumed = recorded + extra;
    const total = waitingQueueSize + runningRequests + assumed;
    const full = waitingQueueSize > 0;
    const running = full
      ? Math.max(0, Math.min(total, runningRequests))
      : Math.max(0, runningRequests + assumed);
    out.waiting[i] = full ? Math.max(0, total - runningRequests) : Math.max(0, assumed);
    out.running[i] = running;
    out.kvUsage[i] = Math.max(0, kvCacheUsage + (running - runningRequests) * this.kvPerRequest);
    out.inflight[i] = now + extra;
    out.assumed[i] = assumed;
  }

  /** `load`'s one-endpoint columns, reused. */
  private readonly one: LoadColumns = {
    waiting: new Float64Array(1),
    running: new Float64Array(1),
    assumed: new Float64Array(1),
    kvUsage: new Float64Array(1),
    inflight: new Float64Array(1),
  };

  forget(name: string): void {
    if (this.base.delete(name)) this.epoch++;
    const s = this.columns?.slot(name);
    if (s !== undefined) this.bySlot.drop(s);
  }

  retain(names: Iterable<string>): void {
    const keep = new Set(names);
    for (const name of [...this.base.keys()]) if (!keep.has(name) && this.base.delete(name)) this.epoch++;
    const cols = this.columns;
    if (cols === undefined) return;
    for (const name of cols.names()) if (!keep.has(name)) this.bySlot.drop(cols.slot(name)!);
  }

  /** Records held: by name, and by slot for the store's endpoints. */
  get size(): number {
    return this.base.size + (this.columns === undefined ? 0 : this.bySlot.held(this.columns));
  }

  /** KV per request of the endpoint of the last `record` call (its second answer, without an object per call). */
  private kvPerRequest = 0;

  /** The endpoint's assumed requests; leaves its KV per request in `kvPerRequest`. */
  private record(endpoint: Endpoint, now: number): number {
    const cols = this.columns;
    const s = cols?.slot(endpoint.name);
    if (s === undefined) return this.recordWith(endpoint, now, this.base.get(endpoint.name));
    // A store endpoint's record is kept by slot (shared with `fillFromColumns`); its snapshot is the object's.
    const bySlot = this.bySlot;
    bySlot.fit(cols!.capacity);
    const m = endpoint.metrics;
    const assumed = bySlot.assumed(
      cols!.gen[s]!,
      s,
      m.updatedAt,
      m.waitingQueueSize,
      m.runningRequests,
      m.kvCacheUsage,
      now,
    );
    this.kvPerRequest = bySlot.kvPerRequest;
    return assumed;
  }

  /** `record` with the endpoint's record (`base.get(name)`) already found. */
  private recordWith(endpoint: Endpoint, now: number, b: Baseline | undefined): number {
    const m = endpoint.metrics;
    const unreported = now - (m.waitingQueueSize + m.runningRequests);
    if (b !== undefined && b.updatedAt === m.updatedAt) {
      this.kvPerRequest = b.kvPerRequest;
      return Math.max(now - b.inflight, unreported);
    }
    const kvPerRequest = m.runningRequests > 0 ? m.kvCacheUsage / m.runningRequests : (b?.kvPerRequest ?? 0);
    this.kvPerRequest = kvPerRequest;
    if (m.updatedAt === 0) return now;
    if (b === undefined && this.base.size >= this.maxEndpoints) this.clear();
    if (b === undefined)
      this.base.set(endpoint.name, {
        name: endpoint.name,
        updatedAt: m.updatedAt,
        inflight: now,
        kvPerRequest,
      });
    else {
      b.updatedAt = m.updatedAt;
      b.inflight = now;
      b.kvPerRequest = kvPerRequest;
    }
    return Math.max(0, unreported);
  }

  /** Drops every record (the cap): no slot may keep one. */
  private clear(): void {
    this.base.clear();
    this.epoch++;
  }
}

/** One endpoint's baseline (B and its snapshot's time, KV per request); `name` checks a slot. */
interface Baseline {
  readonly name: string;
  updatedAt: number;
  inflight: number;
  kvPerRequest: number;
}
