/**
 * utilization-filter: drop saturated endpoints, but never all of them.
 *
 *   utilization = max(waitingQueueSize / queueDepthThreshold, kvCacheUsage / kvCacheUtilThreshold)
 *   drop when utilization >= 1, or when the metrics are stale (older than
 *   metricsStalenessThresholdMs with no scrape in flight that may still refresh them, as
 *   src/datalayer/freshness.ts; never-scraped endpoints count as stale); if every endpoint would be dropped, keep all
 *   (the scorers then rank them).
 *
 * Inputs: scraped metrics only (as the flow controller's utilization-detector), not the
 * assumed load: a burst of requests a pod can run at once would otherwise look queued.
 * Parameters: `queueDepthThreshold` (5), `kvCacheUtilThreshold` (0.8),
 * `metricsStalenessThresholdMs` (2000; 0 disables the staleness check).
 */
import * as v from "valibot";
import { isStale } from "../src/datalayer/freshness.ts";
import type { Endpoint } from "../src/endpoints/types.ts";
import type { Filter } from "../src/scheduling/framework/interfaces.ts";
import { type PluginDefinition, withParameters } from "../src/scheduling/framework/registry.ts";

export const UTILIZATION_FILTER = "utilization-filter";

export const UtilizationParameters = v.strictObject({
  queueDepthThreshold: v.optional(v.pipe(v.number(), v.gtValue(0, "a number > 0")), 5),
  kvCacheUtilThreshold: v.optional(v.pipe(v.number(), v.gtValue(0, "a number > 0")), 0.8),
  metricsStalenessThresholdMs: v.optional(v.pipe(v.number(), v.minValue(0)), 2000),
});
export type UtilizationParameters = v.InferOutput<typeof UtilizationParameters>;

export function utilization(e: Endpoint, p: UtilizationParameters): number {
  return Math.max(
    e.metrics.waitingQueueSize / p.queueDepthThreshold,
    e.metrics.kvCacheUsage / p.kvCacheUtilThreshold,
  );
}

export function utilizationFilter(
  opts: { name?: string; params?: Partial<UtilizationParameters> } = {},
): Filter {
  const p = { ...v.parse(UtilizationParameters, {}), ...opts.params };
  return {
    type: UTILIZATION_FILTER,
    name: opts.name ?? UTILIZATION_FILTER,
    filter(ctx, endpoints) {
      const now = ctx.clock.now();
      // The data layer's staleness rule: a scrape still in flight with no failure keeps the snapshot usable.
      const stale = (e: Endpoint) =>
        p.metricsStalenessThresholdMs > 0 && isStale(e.metrics, now, p.metricsStalenessThresholdMs, e.scrape);
      const kept = endpoints.filter((e) => !stale(e) && utilization(e, p) < 1);
      return kept.length > 0 ? kept : endpoints;
    },
  };
}

export const utilizationFilterPlugin: PluginDefinition = {
  type: UTILIZATION_FILTER,
  factory: withParameters(UtilizationParameters, (name, params) => utilizationFilter({ name, params })),
};
