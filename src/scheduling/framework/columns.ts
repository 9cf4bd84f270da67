import type { SnapshotColumns } from "./load.ts";

/**
 * Per-decision column buffers, reused across decisions (issue 19, eighth pass).
 *
 * A decision at n candidates wrote nine typed arrays of n doubles (six load columns, the
 * first profile's totals, the queue and prefix scorers' scores). V8 keeps a typed array on its heap only up to 64 bytes;
 * past 8 candidates each one got its own off-heap backing store (~0.3-0.6 µs each on
 * Node, ~0.05-0.1 on Bun). A scheduler now keeps a free list of column sets: a decision
 * takes one (`ColumnPool.take`) and the framework gives it back once no hook of that
 * decision can read it any more (the end of `decide`, of a `schedule` without lifecycle,
 * or the lifecycle's ResponseComplete). A set lost on the way (a request whose lifecycle
 * is never ended, a throw) is left to the collector: the pool only ever loses reuse.
 *
 * The guard: every `take` bumps the set's `epoch`; a holder keeps the epoch it took and
 * checks it before each read (`ColumnLease.check`), so a context read after its decision
 * was given back fails loudly instead of reading another decision's numbers.
 */
export class ColumnSet implements SnapshotColumns {
  readonly waiting: Float64Array;
  readonly running: Float64Array;
  readonly assumed: Float64Array;
  readonly kvUsage: Float64Array;
  readonly inflight: Float64Array;
  readonly kvScore: Float64Array;
  readonly totals: Float64Array;
  /** Score columns a decision's scorers write their results into (`scoreColumn`), in order. */
  readonly scores: readonly Float64Array[];
  /** SnapshotColumns' totals of the load pass (load.ts `fill` writes them). */
  reported = 0;
  blockSize: number | undefined = undefined;
  /** Bumped by every `take`: which decision holds the set now. */
  epoch = 0;
  /** Whether the set is out (taken and not given back). */
  out = false;

  constructor(readonly size: number) {
    // One backing store for all ten columns, each a view of `size` doubles.
    const all = new Float64Array((7 + SCORE_COLUMNS) * size);
    this.waiting = all.subarray(0, size);
    this.running = all.subarray(size, 2 * size);
    this.assumed = all.subarray(2 * size, 3 * size);
    this.kvUsage = all.subarray(3 * size, 4 * size);
    this.inflight = all.subarray(4 * size, 5 * size);
    this.kvScore = all.subarray(5 * size, 6 * size);
    this.totals = all.subarray(6 * size, 7 * size);
    const scores: Float64Array[] = [];
    for (let k = 7; k < 7 + SCORE_COLUMNS; k++) scores.push(all.subarray(k * size, (k + 1) * size));
    this.scores = scores;
  }
}

/** Score columns in a set: the default profile's scorers need two (queue, prefix). */
const SCORE_COLUMNS = 3;

/** Error text of a read past the decision's end (a plugin kept its context too long). */
export const STALE_COLUMNS =
  "scheduler: a decision's columns were read after the decision ended (its lifecycle completed); " +
  "a plugin must read ctx.loads() and the scores during the decision or its lifecycle hooks, not later";

/**
 * A scheduler's free column sets, by size. Sets are exact in size (plugins read `.length`);
 * a pool's candidate count moves with health and, under flow control, with the endpoints
 * that have room, so sets of a few sizes are kept. At most `max` sets are kept free in all
 * (about the concurrency of decisions whose lifecycles are open); a set given back to a full
 * pool first drops the other sizes' sets, then, if its own size fills the pool, is left to
 * the collector.
 */
export class ColumnPool {
  private readonly free = new Map<number, ColumnSet[]>();
  private count = 0;

  constructor(private readonly max = 64) {}

  /** A set of `size` doubles a column, taken for one decision (its epoch is the holder's). */
  take(size: number): ColumnSet {
    let set = this.free.get(size)?.pop();
    if (set !== undefined) this.count--;
    else set = new ColumnSet(size);
    set.epoch++;
    set.out = true;
    return set;
  }

  /** Gives `set` back, if it is still held at `epoch` (a second give is ignored). */
  give(set: ColumnSet, epoch: number): void {
    if (!set.out || set.epoch !== epoch) return;
    set.out = false;
    // Bumped on return too: a reader still holding `epoch` now fails its check.
    set.epoch++;
    if (this.count >= this.max) this.keepOnly(set.size);
    if (this.count >= this.max) return;
    let list = this.free.get(set.size);
    if (list === undefined) {
      list = [];
      this.free.set(set.size, list);
    }
    list.push(set);
    this.count++;
  }

  /** Drops the free sets of every other size (sizes a pool no longer has must not fill the pool). */
  private keepOnly(size: number): void {
    const kept = this.free.get(size);
    this.free.clear();
    this.count = 0;
    if (kept === undefined) return;
    this.free.set(size, kept);
    this.count = kept.length;
  }

  /** Free sets (tests). */
  get freeCount(): number {
    return this.count;
  }
}
