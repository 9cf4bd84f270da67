/**
 * kv-cache-utilization-scorer: prefer endpoints with free KV-cache.
 *
 *   score = 1 - kvCacheUsage
 *
 * Input: the scraped `metrics.kvCacheUsage` (0..1; out-of-range values are clamped by the
 * framework). Parameters: none.
 */
import * as v from "valibot";
import { madeLoads } from "../src/scheduling/framework/context.ts";
import type { Scorer } from "../src/scheduling/framework/interfaces.ts";
import { type PluginDefinition, withParameters } from "../src/scheduling/framework/registry.ts";

export const KV_CACHE_UTILIZATION_SCORER = "kv-cache-utilization-scorer";

export function kvCacheUtilizationScorer(name = KV_CACHE_UTILIZATION_SCORER): Scorer {
  return {
    type: KV_CACHE_UTILIZATION_SCORER,
    name,
    score(ctx, endpoints) {
      // Taken in the load columns' pass when a scorer before this one made them (issue 19, eighth pass).
      const made = madeLoads(ctx, endpoints);
      if (made !== undefined) return made.kvScore;
      const out = new Float64Array(endpoints.length);
      for (let i = 0; i < out.length; i++) out[i] = 1 - endpoints[i]!.metrics.kvCacheUsage;
      return out;
    },
  };
}

export const kvCacheUtilizationScorerPlugin: PluginDefinition = {
  type: KV_CACHE_UTILIZATION_SCORER,
  factory: withParameters(v.strictObject({}), (name) => kvCacheUtilizationScorer(name)),
};
