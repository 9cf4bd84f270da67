/**
 * running-requests-size-scorer: prefer endpoints running fewer requests.
 *
 *   score = (max - r) / (max - min) over the candidates; 1.0 for all when all are equal
 *
 * Input: r = `ctx.load(e).running` = scraped `runningRequests` + the assumed load (what
 * this gateway sent since that scrape; see src/scheduling/framework/load.ts).
 * Parameters: none.
 */
import * as v from "valibot";
import type { Scorer } from "../src/scheduling/framework/interfaces.ts";
import { lowerIsBetter } from "../src/scheduling/framework/normalize.ts";
import { type PluginDefinition, withParameters } from "../src/scheduling/framework/registry.ts";

export const RUNNING_REQUESTS_SIZE_SCORER = "running-requests-size-scorer";

export function runningRequestsSizeScorer(name = RUNNING_REQUESTS_SIZE_SCORER): Scorer {
  return {
    type: RUNNING_REQUESTS_SIZE_SCORER,
    name,
    score(ctx, endpoints) {
      return lowerIsBetter(ctx.loads(endpoints).running);
    },
  };
}

export const runningRequestsSizeScorerPlugin: PluginDefinition = {
  type: RUNNING_REQUESTS_SIZE_SCORER,
  factory: withParameters(v.strictObject({}), (name) => runningRequestsSizeScorer(name)),
};
