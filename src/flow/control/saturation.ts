/**
 * Saturation over a pool, from a per-endpoint detector and the shared load model:
 * the pool's score (GIE's mean), and the question dispatch asks, "is there room for one
 * more request at this ceiling, after the ones already granted find their place?".
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
 * True when the endpoints can take `need` more requests while each stays below
 * `ceiling`: endpoint by endpoint, it counts how many requests fit before the score
 * reaches the ceiling (each counted request is added to the endpoint's load before the
 * next is asked about), stopping as soon as `need` fit. O(endpoints + need).
 */
export function roomFor(
  need: number,
  opts: {
    detector: SaturationDetector;
    loads: LoadSource;
    endpoints: readonly Endpoint[];
    ceiling: number;
    now: number;
  },
): boolean {
  const { detector, loads, ceiling, now } = opts;
  let left = need;
  for (const e of opts.endpoints) {
    let n = 0;
    while (n < left && scoreOf(detector, loads, e, now, n) < ceiling) n++;
    left -= n;
    if (left <= 0) return true;
  }
  return left <= 0;
}

/** The endpoints whose score is below `ceiling` now. */
export function endpointsWithRoom(
  endpoints: readonly Endpoint[],
  opts: { detector: SaturationDetector; loads: LoadSource; ceiling: number; now: number },
): Endpoint[] {
  return endpoints.filter((e) => scoreOf(opts.detector, opts.loads, e, opts.now) < opts.ceiling);
}
