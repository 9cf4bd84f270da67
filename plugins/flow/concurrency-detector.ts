/**
 * concurrency-detector: saturation from the gateway's own in-flight count per
 * endpoint, exact at once (scraped metrics lag by up to one scrape).
 *
 *   score(e) = inflight(e) / maxConcurrency
 *   pool     = mean of score(e) = total in-flight / (endpoints × maxConcurrency);  1 with no endpoints
 *
 * `inflight(e)` counts requests sent to e and not yet finished. Parameters:
 * maxConcurrency (100 per endpoint). Pure: reads only its input.
 */
import * as v from "valibot";
import { pluginName, pluginParams } from "../../src/flow/control/params.ts";
import type { PluginFactory, SaturationDetector } from "../../src/flow/control/types.ts";

export const CONCURRENCY_DETECTOR = "concurrency-detector";

export const ConcurrencyParamsSchema = v.strictObject({
  maxConcurrency: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 100),
});
export type ConcurrencyParams = v.InferOutput<typeof ConcurrencyParamsSchema>;

export function concurrencyDetector(
  params: Partial<ConcurrencyParams> = {},
  name = CONCURRENCY_DETECTOR,
): SaturationDetector {
  const max = params.maxConcurrency ?? 100;
  return { type: CONCURRENCY_DETECTOR, name, score: (_endpoint, load) => load.inflight / max };
}

export const concurrencyDetectorFactory: PluginFactory<SaturationDetector> = {
  type: CONCURRENCY_DETECTOR,
  create(spec) {
    return concurrencyDetector(pluginParams(ConcurrencyParamsSchema, spec), pluginName(spec));
  },
};
