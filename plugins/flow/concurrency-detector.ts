/**
 * concurrency-detector: saturation from the gateway's own in-flight count per
 * endpoint, exact at once (scraped metrics lag by up to one scrape).
 *
 *   score(e) = inflight(e) / (maxConcurrency × (1 + headroom))
 *   pool     = mean of score(e) = total in-flight / (endpoints × maxConcurrency × (1 + headroom));  1 with no endpoints
 *
 * `inflight(e)` counts requests sent to e and not yet finished. Parameters (llm-d v0.10
 * names): `maxConcurrency` (100 per endpoint), `headroom` (0: the burst allowed above
 * maxConcurrency, as a fraction; upstream lets only its endpoint filter burst, here the
 * endpoint's score and the pool's use the same limit), `concurrencyMode` (`requests`
 * only: `tokens` and `hybrid` need per-request token accounting in flow control; the
 * tokens in flight that inflight-load-producer keeps live in the scheduler's plugins,
 * which flow control cannot reach, so they are refused). Pure: reads only its input.
 */
import * as v from "valibot";
import { pluginName, pluginParams } from "../../src/flow/control/params.ts";
import type { PluginFactory, SaturationDetector } from "../../src/flow/control/types.ts";

export const CONCURRENCY_DETECTOR = "concurrency-detector";

export const ConcurrencyParamsSchema = v.strictObject({
  maxConcurrency: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 100),
  headroom: v.optional(v.pipe(v.number(), v.minValue(0, "a fraction >= 0, e.g. 0.2")), 0),
  concurrencyMode: v.optional(
    v.picklist(
      ["requests"],
      '"requests" (the "tokens" and "hybrid" modes need per-request token accounting in flow control: the prompt tokens in flight that inflight-load-producer keeps are kept for scheduling only)',
    ),
    "requests",
  ),
});
export type ConcurrencyParams = v.InferOutput<typeof ConcurrencyParamsSchema>;

export function concurrencyDetector(
  params: Partial<ConcurrencyParams> = {},
  name = CONCURRENCY_DETECTOR,
): SaturationDetector {
  const max = (params.maxConcurrency ?? 100) * (1 + (params.headroom ?? 0));
  return { type: CONCURRENCY_DETECTOR, name, score: (_endpoint, load) => load.inflight / max };
}

export const concurrencyDetectorFactory: PluginFactory<SaturationDetector> = {
  type: CONCURRENCY_DETECTOR,
  create(spec) {
    return concurrencyDetector(pluginParams(ConcurrencyParamsSchema, spec), pluginName(spec));
  },
};
