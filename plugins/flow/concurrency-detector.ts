/**
 * concurrency-detector: pool saturation from the gateway's own in-flight count,
 * exact at once (scraped metrics lag by up to one scrape).
 *
 *   saturation = inflight.total() / (endpoints × maxConcurrency);  1 when there are no endpoints
 *
 * `inflight.total()` counts requests admitted and not yet finished. Parameters:
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
  return {
    type: CONCURRENCY_DETECTOR,
    name,
    saturation: ({ endpoints, inflight }) =>
      endpoints.length === 0 ? 1 : inflight.total() / (endpoints.length * max),
  };
}

export const concurrencyDetectorFactory: PluginFactory<SaturationDetector> = {
  type: CONCURRENCY_DETECTOR,
  create(spec) {
    return concurrencyDetector(pluginParams(ConcurrencyParamsSchema, spec), pluginName(spec));
  },
};
