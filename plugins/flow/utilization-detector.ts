/**
 * utilization-detector: pool saturation from scraped model-server metrics.
 *
 *   score(e)   = max(waitingQueueSize(e) / queueDepthThreshold, kvCacheUsage(e) / kvCacheUtilThreshold)
 *   stale(e)   = updatedAt(e) = 0 (never scraped) or now - updatedAt(e) > metricsStalenessThreshold
 *   score(e)   = max(1, score(e))  when stale: a pod we cannot see counts as saturated
 *   saturation = mean of score(e) over endpoints;  1 when there are no endpoints
 *
 * Parameters: queueDepthThreshold (5), kvCacheUtilThreshold (0.8),
 * metricsStalenessThreshold (Go duration, "2s"). Pure: reads only its input.
 */
import * as v from "valibot";
import { pluginName, pluginParams } from "../../src/flow/control/params.ts";
import type { PluginFactory, SaturationDetector, SaturationInput } from "../../src/flow/control/types.ts";
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
    saturation({ endpoints, now }: SaturationInput): number {
      if (endpoints.length === 0) return 1;
      let sum = 0;
      for (const e of endpoints) {
        const m = e.metrics;
        const score = Math.max(m.waitingQueueSize / queueDepth, m.kvCacheUsage / kvUtil);
        const stale = m.updatedAt === 0 || now - m.updatedAt > staleMs;
        sum += stale ? Math.max(1, score) : score;
      }
      return sum / endpoints.length;
    },
  };
}

export const utilizationDetectorFactory: PluginFactory<SaturationDetector> = {
  type: UTILIZATION_DETECTOR,
  create(spec) {
    return utilizationDetector(pluginParams(UtilizationParamsSchema, spec), pluginName(spec));
  },
};
