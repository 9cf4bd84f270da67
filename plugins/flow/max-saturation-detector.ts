/**
 * max-saturation-detector: combines detectors; the pool is as saturated as the most
 * pessimistic of them.
 *
 *   saturation = max over detectors d of d.saturation(input)     (NaN counts as 1)
 *
 * The default pairs utilization-detector (what the pods report) with
 * concurrency-detector (what the gateway just sent, before any scrape shows it), so
 * a burst of dispatches stops at the concurrency bound instead of waiting for the
 * next scrape. Parameters (YAML): detectors, a list of {type, name?, parameters?}.
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
  return {
    type: MAX_SATURATION_DETECTOR,
    name,
    saturation(input) {
      let max = Number.NEGATIVE_INFINITY;
      for (const d of detectors) {
        const s = d.saturation(input);
        max = Math.max(max, Number.isNaN(s) ? 1 : s);
      }
      return max;
    },
  };
}
