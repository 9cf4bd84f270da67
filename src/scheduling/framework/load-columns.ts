import type { Endpoint } from "../../endpoints/types.ts";
import type { LoadColumns } from "./interfaces.ts";

/**
 * Load columns plus what the rest of a decision reads of every candidate's snapshot, taken
 * in the same pass over the endpoints (issue 19, eighth pass: the KV scorer, the block size
 * and the picker each walked the candidates again). Filled by `fill` when `out` has them.
 */
export interface SnapshotColumns extends LoadColumns {
  /** 1 − scraped `kvCacheUsage` per endpoint: kv-cache-utilization-scorer's score, unclamped. */
  readonly kvScore: Float64Array;
  /** Σ scraped `runningRequests + waitingQueueSize`. */
  reported: number;
  /** The engine block size every reporting endpoint shares (undefined: none reports), or MIXED_BLOCK_SIZES. */
  blockSize: number | undefined;
}

/** `SnapshotColumns`' fields other than the loads, read from each endpoint's snapshot. */
export function snapshotFields(endpoints: readonly Endpoint[], snap: SnapshotColumns): void {
  let reported = 0;
  let block: number | undefined;
  let blockUniform = true;
  for (let i = 0; i < endpoints.length; i++) {
    const m = endpoints[i]!.metrics;
    reported += m.runningRequests + m.waitingQueueSize;
    snap.kvScore[i] = 1 - m.kvCacheUsage;
    const size = m.cache?.blockSize;
    if (size !== undefined && size > 0 && blockUniform) {
      if (block === undefined) block = size;
      else if (size !== block) blockUniform = false;
    }
  }
  snap.reported = reported;
  snap.blockSize = blockUniform ? block : MIXED_BLOCK_SIZES;
}

/** Candidate counts whose columns a tracker keeps for reuse (a pool's decisions ask for a few). */
export const SCRATCH_COUNTS = 8;

/**
 * Columns; a tracker's own for reuse are lent to one decision at a time (`lent`), and are
 * six views of one buffer (`contiguous`): as six arrays of their own, lent columns read a
 * long prompt's decision 2-4 µs slower at its p50 on Bun (the decision benchmark, 64
 * endpoints, 32k characters, three runs), as one buffer no slower (three runs). The views
 * are made once, with the tracker's columns, not per decision.
 */
export class ScratchColumns implements SnapshotColumns {
  readonly waiting: Float64Array;
  readonly running: Float64Array;
  readonly assumed: Float64Array;
  readonly kvUsage: Float64Array;
  readonly inflight: Float64Array;
  readonly kvScore: Float64Array;
  reported = 0;
  blockSize: number | undefined = undefined;
  lent = false;

  constructor(n: number, contiguous = false) {
    if (contiguous) {
      const all = new Float64Array(6 * n);
      this.waiting = all.subarray(0, n);
      this.running = all.subarray(n, 2 * n);
      this.assumed = all.subarray(2 * n, 3 * n);
      this.kvUsage = all.subarray(3 * n, 4 * n);
      this.inflight = all.subarray(4 * n, 5 * n);
      this.kvScore = all.subarray(5 * n, 6 * n);
      return;
    }
    this.waiting = new Float64Array(n);
    this.running = new Float64Array(n);
    this.assumed = new Float64Array(n);
    this.kvUsage = new Float64Array(n);
    this.inflight = new Float64Array(n);
    this.kvScore = new Float64Array(n);
  }
}

/** Zeroed columns for `n` endpoints (a decision's own, or a hook's). */
export function newColumns(n: number): SnapshotColumns {
  return new ScratchColumns(n);
}

/** `SnapshotColumns.blockSize` when the endpoints report different sizes: count them (commonBlockSize). */
export const MIXED_BLOCK_SIZES = -1;
