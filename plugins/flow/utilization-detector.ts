/**
 * utilization-detector: saturation from model-server metrics, GIE's formula, applied to
 * each endpoint's assumed load (the last scrape plus what the gateway sent since), so a
 * dispatch counts at once instead of one scrape later.
 *
 *   score(e)   = max(waiting(e) / queueDepthThreshold, kvUsage(e) / kvCacheUtilThreshold)
 *   stale(e)   = the data layer's rule (datalayer/freshness.ts isStale) at metricsStalenessThreshold:
 *                never scraped, or older than the threshold unless a scrape is in flight
 *                with no failure since the last success (a merely late scrape)
 *   score(e)   = max(1, score(e))  when stale: a pod we cannot see counts as saturated
 *   pool       = mean of score(e) over endpoints;  1 when there are no endpoints
 *
 * waiting(e) and kvUsage(e) come from the shared load model (LoadTracker): scraped
 * values plus requests sent since that scrape. A late scrape does not make a pod saturated:
 * its snapshot plus what was sent since is still the best estimate, and the scheduler uses
 * the same rule, so flow control never holds requests for a pod the scheduler would use.
 * Parameters: queueDepthThreshold (5),
 * kvCacheUtilThreshold (0.8), metricsStalenessThreshold (Go duration, "2s").
 */
import * as v from "valibot";
import { isStale } from "../../src/datalayer/freshness.ts";
import { pluginName, pluginParams } from "../../src/flow/control/params.ts";
import type { PluginFactory, SaturationDetector } from "../../src/flow/control/types.ts";
import { parseDuration } from "../../src/flow/control/units.ts";

export const UTILIZATION_DETECTOR = "utilization-detector";

export const UtilizationParamsSchema = v.strictObject({
  queueDepthThreshold: v.optional(v.pipe(v.number(), v.gtValue(0)), 5),
  kvCacheUtilThreshold: v.optional(v.pipe(v.number(), v.gtValue(0), v.maxValue(1)), 0.8),
  metricsStalenessThreshold: v.optional(
    v.pipe(
      v.string("a duration such as 2s or 200ms"),
      v.transform(parseDuration),
      v.number("a duration such as 2s or 200ms"),
      v.gtValue(0),
    ),
    "2s",
  ),
});
export type UtilizationParams = v.InferOutput<typeof UtilizationParamsSchema>;

/** `params` use milliseconds for the staleness threshold (YAML takes a duration string). */
export function utilizationDetector(
  params: Partial<UtilizationParams> = {},
  name = UTILIZATION_DETECTOR,
): SaturationDetector {
  const queueDepth = params.queueDepthThreshold ?? 5;
  const kvUtil = params.kvCacheUtilThreshold ?? 0.8;
  const staleMs = params.metricsStalenessThreshold ?? 2000;
  return {
    type: UTILIZATION_DETECTOR,
    name,
    score(endpoint, load, now) {
      const score = Math.max(load.waiting / queueDepth, load.kvUsage / kvUtil);
      return isStale(endpoint.metrics, now, staleMs, endpoint.scrape) ? Math.max(1, score) : score;
    },
    scoreColumns(cols, n, now, out) {
      const { waiting, kvUsage, updatedAt } = cols;
      for (let i = 0; i < n; i++) {
        const at = updatedAt[i]!;
        // Fresh for certain (isStale's first two tests); an older snapshot is stale or not by
        // its scrape status, which `score` reads.
        out[i] =
          at !== 0 && now - at <= staleMs
            ? Math.max(waiting[i]! / queueDepth, kvUsage[i]! / kvUtil)
            : Number.NaN;
      }
    },
  };
}

export const utilizationDetectorFactory: PluginFactory<SaturationDetector> = {
  type: UTILIZATION_DETECTOR,
  create(spec) {
    return utilizationDetector(pluginParams(UtilizationParamsSchema, spec), pluginName(spec));
  },
};
