/**
 * queue-scorer: prefer endpoints with shorter waiting queues.
 *
 *   score = (max - q) / (max - min) over the candidates; 1.0 for all when all are equal
 *
 * Input: q = `ctx.loads(endpoints).waiting` (`ctx.load(e).waiting`) = scraped `waitingQueueSize` + the assumed load (what
 * this gateway sent since that scrape; see src/scheduling/framework/load.ts), so a burst
 * between two scrapes spreads. Parameters: none.
 */
import * as v from "valibot";
import type { Scorer } from "../src/scheduling/framework/interfaces.ts";
import { lowerIsBetter } from "../src/scheduling/framework/normalize.ts";
import { type PluginDefinition, withParameters } from "../src/scheduling/framework/registry.ts";

export const QUEUE_SCORER = "queue-scorer";

export function queueScorer(name = QUEUE_SCORER): Scorer {
  /** The last call's result, handed back again when the candidate count is the same (see `Scorer.score`). */
  let out = new Float64Array(0);
  return {
    type: QUEUE_SCORER,
    name,
    score(ctx, endpoints) {
      if (out.length !== endpoints.length) out = new Float64Array(endpoints.length);
      return lowerIsBetter(ctx.loads(endpoints).waiting, out);
    },
  };
}

export const queueScorerPlugin: PluginDefinition = {
  type: QUEUE_SCORER,
  factory: withParameters(v.strictObject({}), (name) => queueScorer(name)),
};
