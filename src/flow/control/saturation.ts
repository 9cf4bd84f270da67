/**
 * Saturation over a pool, from a per-endpoint detector and the shared load model: the
 * pool's score (GIE's mean), and the places flow control has granted on endpoints but
 * the forward stage has not counted in flight yet (`Reservations`).
 */
import type { Endpoint } from "../../endpoints/types.ts";
import type { LoadTracker } from "../../scheduling/framework/load.ts";
import type { InFlightView, LoadSource, SaturationDetector } from "./types.ts";

/** A LoadSource over the gateway's LoadTracker and in-flight counts. */
export function trackedLoads(tracker: LoadTracker, inflight: Pick<InFlightView, "get">): LoadSource {
  return { load: (endpoint, extra = 0) => tracker.load(endpoint, inflight, extra) };
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

  /** The first endpoint not in `skip` whose score is below `ceiling`. */
  find(
    endpoints: readonly Endpoint[],
    ceiling: number,
    now: number,
    skip?: ReadonlySet<Endpoint>,
  ): Endpoint | undefined {
    for (const e of endpoints) if (!skip?.has(e) && this.score(e, now) < ceiling) return e;
    return undefined;
  }

  /**
   * The endpoints whose score is below `ceiling`: `endpoints` itself when all are (the usual
   * case), so the decision that follows gets the pool store's own array and reads its columns
   * (src/endpoints/columns.ts) instead of a copy's objects.
   */
  withRoom(endpoints: readonly Endpoint[], ceiling: number, now: number): readonly Endpoint[] {
    let open: Endpoint[] | undefined;
    for (let i = 0; i < endpoints.length; i++) {
      const e = endpoints[i]!;
      if (this.score(e, now) < ceiling) open?.push(e);
      else open ??= endpoints.slice(0, i);
    }
    return open ?? endpoints;
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
