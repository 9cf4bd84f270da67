/**
 * max-saturation-detector: combines detectors; an endpoint is as saturated as the most
 * pessimistic of them says.
 *
 *   score(e) = max over detectors d of d.score(e)      (NaN counts as 1)
 *   pool     = mean of score(e)
 *
 * The default pairs utilization-detector (what the pods report, plus what the gateway
 * sent since) with concurrency-detector (a backstop of 100 in flight per endpoint).
 * Parameters (YAML): detectors, a list of {type, name?, parameters?}.
 */
import * as v from "valibot";
import type { SaturationDetector } from "../../src/flow/control/types.ts";

export const MAX_SATURATION_DETECTOR = "max-saturation-detector";

export const MaxSaturationParamsSchema = v.strictObject({
  detectors: v.pipe(
    v.array(
      v.strictObject({
        type: v.pipe(v.string(), v.minLength(1)),
        name: v.optional(v.string()),
        parameters: v.optional(v.unknown()),
      }),
    ),
    v.minLength(1, "at least one detector"),
  ),
});

export function maxSaturationDetector(
  detectors: readonly SaturationDetector[],
  name = MAX_SATURATION_DETECTOR,
): SaturationDetector {
  if (detectors.length === 0) throw new Error("max-saturation-detector needs at least one detector");
  const detector: SaturationDetector = {
    type: MAX_SATURATION_DETECTOR,
    name,
    score(endpoint, load, now) {
      let max = Number.NEGATIVE_INFINITY;
      for (const d of detectors) {
        const s = d.score(endpoint, load, now);
        max = Math.max(max, Number.isNaN(s) ? 1 : s);
      }
      return max;
    },
  };
  // From columns only when every detector offers it: the larger of their scores, NaN (ask
  // `score`) where any of them says so.
  if (!detectors.every((d) => d.scoreColumns !== undefined)) return detector;
  let other = new Float64Array(0);
  detector.scoreColumns = (cols, n, now, out) => {
    detectors[0]!.scoreColumns!(cols, n, now, out);
    if (other.length < n) other = new Float64Array(n);
    for (let k = 1; k < detectors.length; k++) {
      detectors[k]!.scoreColumns!(cols, n, now, other);
      for (let i = 0; i < n; i++) {
        const a = out[i]!;
        const b = other[i]!;
        out[i] = Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : a > b ? a : b;
      }
    }
  };
  return detector;
}
