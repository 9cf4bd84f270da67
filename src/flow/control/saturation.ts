/**
 * Saturation over a pool, from a per-endpoint detector and the shared load model: the
 * pool's score (GIE's mean), and the places flow control has granted on endpoints but
 * the forward stage has not counted in flight yet (`Reservations`).
 */
import type { EndpointColumns } from "../../endpoints/columns.ts";
import type { Endpoint } from "../../endpoints/types.ts";
import type { LoadTracker } from "../../scheduling/framework/load.ts";
import type { InFlightView, LoadSource, RoomColumns, SaturationDetector } from "./types.ts";

/**
 * A LoadSource over the gateway's LoadTracker and in-flight counts; `columns`, the pool
 * store's, give the snapshot times of an array the store made without reading its objects.
 */
export function trackedLoads(
  tracker: LoadTracker,
  inflight: InFlightView,
  columns?: EndpointColumns,
): LoadSource {
  return {
    load: (endpoint, extra = 0) => tracker.load(endpoint, inflight, extra),
    fill(endpoints, out) {
      tracker.fill(endpoints, inflight, out);
      const slots = columns?.slotsOf(endpoints);
      if (slots !== undefined) {
        const at = columns!.updatedAt;
        for (let i = 0; i < slots.length; i++) out.updatedAt[i] = at[slots[i]!]!;
      } else for (let i = 0; i < endpoints.length; i++) out.updatedAt[i] = endpoints[i]!.metrics.updatedAt;
    },
    subset(endpoints, subset, positions, count) {
      columns?.indexSubset(endpoints, subset, positions, count);
    },
  };
}

/** `RoomColumns` with the scores beside them, for at least `n` endpoints. */
class RoomScratch implements RoomColumns {
  readonly waiting: Float64Array;
  readonly running: Float64Array;
  readonly assumed: Float64Array;
  readonly kvUsage: Float64Array;
  readonly inflight: Float64Array;
  readonly updatedAt: Float64Array;
  readonly score: Float64Array;
  /** `withRoom`'s kept positions. */
  readonly kept: Int32Array;

  constructor(readonly capacity: number) {
    this.kept = new Int32Array(capacity);
    const all = new Float64Array(7 * capacity);
    const at = (k: number) => all.subarray(k * capacity, (k + 1) * capacity);
    this.waiting = at(0);
    this.running = at(1);
    this.assumed = at(2);
    this.kvUsage = at(3);
    this.inflight = at(4);
    this.updatedAt = at(5);
    this.score = at(6);
  }
}

/** One endpoint's score with `extra` more requests; NaN counts as 1 (saturated). */
export function scoreOf(
  detector: SaturationDetector,
  loads: LoadSource,
  endpoint: Endpoint,
  now: number,
  extra = 0,
): number {
  const s = detector.score(endpoint, loads.load(endpoint, extra), now);
  return Number.isNaN(s) ? 1 : s;
}

/** Pool saturation: the mean endpoint score (1 with no endpoints), as GIE's detectors report it. */
export function poolScore(
  detector: SaturationDetector,
  loads: LoadSource,
  endpoints: readonly Endpoint[],
  now: number,
): number {
  if (endpoints.length === 0) return 1;
  let sum = 0;
  for (const e of endpoints) sum += scoreOf(detector, loads, e, now);
  return sum / endpoints.length;
}

/**
 * Places granted on endpoints and not yet counted in flight. Between a grant and the
 * forward stage's in-flight count lie a few microtasks and the scheduler's pick; a
 * dispatch loop that did not count its own grants would hand the same place out twice.
 * Each grant reserves the place it was granted on; the reservation goes when the
 * request is scheduled (the forward stage counts it in flight in the same tick) or ends.
 * Endpoints' loads here include their reservations.
 */
export class Reservations {
  private readonly held = new Map<string, number>();

  constructor(private readonly deps: { detector: SaturationDetector; loads: LoadSource }) {}

  /** The endpoint's score now, counting its reservations. */
  score(endpoint: Endpoint, now: number): number {
    return scoreOf(this.deps.detector, this.deps.loads, endpoint, now, this.held.get(endpoint.name) ?? 0);
  }

  /**
   * The first endpoint not in `skip` whose score is below `ceiling`. The first candidate is
   * asked through its objects (with room, the usual case, that is all a find costs); past it,
   * the scores come from columns (`columnScores`): a queued request's find after a completion
   * walks a saturated pool to its one free place.
   */
  find(
    endpoints: readonly Endpoint[],
    ceiling: number,
    now: number,
    skip?: ReadonlySet<Endpoint>,
  ): Endpoint | undefined {
    const n = endpoints.length;
    if (n === 0) return undefined;
    const first = endpoints[0]!;
    if (!skip?.has(first) && this.score(first, now) < ceiling) return first;
    const scores = n > 1 ? this.columnScores(endpoints, now) : undefined;
    for (let i = 1; i < n; i++) {
      const e = endpoints[i]!;
      if (skip?.has(e)) continue;
      let s = scores === undefined ? Number.NaN : scores[i]!;
      if (Number.isNaN(s)) s = this.score(e, now);
      if (s < ceiling) return e;
    }
    return undefined;
  }

  /**
   * The endpoints whose score is below `ceiling`: `endpoints` itself when all are (the usual
   * case), so the decision that follows gets the pool store's own array and reads its columns
   * (src/endpoints/columns.ts) instead of a copy's objects.
   */
  withRoom(endpoints: readonly Endpoint[], ceiling: number, now: number): readonly Endpoint[] {
    const scores = this.columnScores(endpoints, now);
    const kept = this.scratch.kept;
    let open: Endpoint[] | undefined;
    for (let i = 0; i < endpoints.length; i++) {
      const e = endpoints[i]!;
      let s = scores === undefined ? Number.NaN : scores[i]!;
      if (Number.isNaN(s)) s = this.score(e, now);
      if (s < ceiling) {
        if (open !== undefined) {
          if (scores !== undefined) kept[open.length] = i;
          open.push(e);
        }
      } else if (open === undefined) {
        open = endpoints.slice(0, i);
        if (scores !== undefined) for (let j = 0; j < i; j++) kept[j] = j;
      }
    }
    if (open === undefined) return endpoints;
    // The decision over the subset then reads the columns too.
    if (scores !== undefined && open.length > 0) this.deps.loads.subset?.(endpoints, open, kept, open.length);
    return open;
  }

  /** Columns of `columnScores`, grown to the largest candidate list seen. */
  private scratch = new RoomScratch(0);

  /**
   * Each endpoint's score, reservations counted, from columns (the detector's `scoreColumns`
   * over the loads' `fill`) where both offer them; NaN where the detector must be asked one
   * by one (`score`); undefined when the columns cannot be used. Every candidate of every
   * request passes here with flow control on: the endpoints' objects are read only for those
   * the detector cannot judge from columns and those holding reservations (issue 19,
   * twenty-fourth pass).
   */
  private columnScores(endpoints: readonly Endpoint[], now: number): Float64Array | undefined {
    const { detector, loads } = this.deps;
    const n = endpoints.length;
    if (detector.scoreColumns === undefined || loads.fill === undefined || n === 0) return undefined;
    if (this.scratch.capacity < n) this.scratch = new RoomScratch(Math.max(n, 2 * this.scratch.capacity));
    const cols = this.scratch;
    loads.fill(endpoints, cols);
    detector.scoreColumns(cols, n, now, cols.score);
    // The columns hold loads without reservations: an endpoint holding some is asked with them.
    for (const name of this.held.keys()) {
      const i = this.positionIn(endpoints, name);
      if (i >= 0) cols.score[i] = this.score(endpoints[i]!, now);
    }
    return cols.score;
  }

  /** Each candidates array's positions by name, made at its first reservation check. */
  private positions = new WeakMap<readonly Endpoint[], Map<string, number>>();

  /** Where `name` is in `endpoints`; −1 when it is not a candidate. */
  private positionIn(endpoints: readonly Endpoint[], name: string): number {
    let byName = this.positions.get(endpoints);
    if (byName === undefined) {
      byName = new Map();
      for (let i = 0; i < endpoints.length; i++) byName.set(endpoints[i]!.name, i);
      this.positions.set(endpoints, byName);
    }
    const i = byName.get(name);
    if (i !== undefined && endpoints[i]?.name === name) return i;
    // An array changed in place since (none of the pool's are): found by a scan.
    return endpoints.findIndex((e) => e.name === name);
  }

  /** Holds one place on `endpoint`; the returned function gives it back, once. */
  reserve(endpoint: Endpoint): () => void {
    const name = endpoint.name;
    this.held.set(name, (this.held.get(name) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = (this.held.get(name) ?? 1) - 1;
      if (n <= 0) this.held.delete(name);
      else this.held.set(name, n);
    };
  }

  /** Reserved places in total (0 when every granted request has been scheduled). */
  get size(): number {
    let n = 0;
    for (const v of this.held.values()) n += v;
    return n;
  }
}
