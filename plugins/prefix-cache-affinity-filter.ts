/**
 * prefix-cache-affinity-filter (llm-d v0.10, the optimized-baseline guide's default):
 * keep only the "sticky" endpoints, those whose cached share of the prompt is at least
 * `affinityThreshold`, unless they are so loaded that another endpoint would answer first.
 *
 *   match(e)  = matched prefix blocks on e / prompt blocks  (approximate prefix index)
 *   sticky    = { e : match(e) >= affinityThreshold };  none sticky -> keep all
 *   ttft(e)   = tokensInFlight(e) / peakPrefillThroughput x 1000  (ms; uncached tokens,
 *               from the inflight-load-producer)
 *   break     = min ttft(sticky) - min ttft(others) > maxTTFTPenaltyMs   (0 = never break)
 *               or min tokens(sticky) - min tokens(others) > maxTokensInFlightPenalty (when set)
 *   with probability explorationProbability the gate is skipped (keep all); one candidate
 *   or affinityThreshold 0: keep all
 *
 * "Sticky until saturated": affinity holds while the holder's queued prefill is within
 * the penalty of the best other pod's; past it every pod is kept and the load scorer
 * after the filter (token-load-scorer) moves the request, the new pod caches the prefix
 * too and becomes sticky as well.
 *
 * Inputs: the request's prefix match (plugins/prefix-match.ts; block size and window
 * from the config's approx-prefix-cache-producer, else 16 tokens x 256 blocks) and the
 * tokens in flight from an inflight-load-producer, which the config must declare when
 * the load gate is on (maxTTFTPenaltyMs > 0 or maxTokensInFlightPenalty set), as upstream
 * requires. Like the prefix scorer it records the request's blocks on the primary
 * (PreRequest) and on a fallback that served (ResponseReceived), so a config without a
 * prefix scorer still builds the index. Parameters (upstream names): `affinityThreshold`
 * (0.80), `explorationProbability` (0), `maxTTFTPenaltyMs` (18,000), `peakPrefillThroughput`
 * (15,928 tokens/s), `maxTokensInFlightPenalty`, `ttftSource` (`prefillThroughput` only:
 * `latencyPredictor` needs the latency-predictor sidecar), `prefixMatchInfoProducerName`,
 * `inFlightLoadProducerName`, `latencyPredictionInfoProducerName` (accepted),
 * `prefillCalibrationFile` / `prefillCalibrationFingerprint` (accepted, not read: the
 * default or the explicit throughput applies, as upstream falls back when a record cannot
 * be applied), `prefillCalibrationRequired` (true is refused: no record is read here).
 */
import * as v from "valibot";
import type { Endpoint } from "../src/endpoints/types.ts";
import {
  type Filter,
  type PreRequest,
  type ResponseComplete,
  type ResponseReceived,
  stateKey,
} from "../src/scheduling/framework/interfaces.ts";
import { type PluginDefinition, withParameters } from "../src/scheduling/framework/registry.ts";
import { blockCharsOf, prefixSettingsOf } from "./approx-prefix-cache-producer.ts";
import { capacityOf, currentMatch, prefixMatch, recordPick, settlePending } from "./prefix-match.ts";
import { inflightTokensOf } from "./token-load-scorer.ts";

export const PREFIX_CACHE_AFFINITY_FILTER = "prefix-cache-affinity-filter";

const Parameters = v.strictObject({
  affinityThreshold: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1)), 0.8),
  explorationProbability: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1)), 0),
  maxTTFTPenaltyMs: v.optional(v.pipe(v.number(), v.minValue(0)), 18_000),
  peakPrefillThroughput: v.optional(v.pipe(v.number(), v.gtValue(0)), 15_928),
  maxTokensInFlightPenalty: v.optional(v.pipe(v.number(), v.minValue(0))),
  prefixMatchInfoProducerName: v.optional(v.pipe(v.string(), v.minLength(1))),
  inFlightLoadProducerName: v.optional(v.pipe(v.string(), v.minLength(1))),
  latencyPredictionInfoProducerName: v.optional(v.string()),
  prefillCalibrationFile: v.optional(v.string()),
  prefillCalibrationFingerprint: v.optional(v.string()),
  prefillCalibrationRequired: v.optional(
    v.literal(false, "false (this gateway reads no calibration record: set peakPrefillThroughput instead)"),
  ),
  ttftSource: v.optional(
    v.picklist(
      ["prefillThroughput"],
      '"prefillThroughput" ("latencyPredictor" needs the latency-predictor sidecar, which this gateway does not run yet)',
    ),
    "prefillThroughput",
  ),
});

const min = (xs: readonly number[]) => xs.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY);

export const prefixCacheAffinityFilterPlugin: PluginDefinition = {
  type: PREFIX_CACHE_AFFINITY_FILTER,
  factory: withParameters(
    Parameters,
    (name, p, deps): Filter & PreRequest & ResponseReceived & ResponseComplete => {
      const settings = prefixSettingsOf(deps.producers);
      const gated = p.maxTTFTPenaltyMs > 0 || p.maxTokensInFlightPenalty !== undefined;
      const load = gated
        ? inflightTokensOf(deps.producers, PREFIX_CACHE_AFFINITY_FILTER, p.inFlightLoadProducerName)
        : undefined;
      const index = deps.prefixIndex;
      const recordedOn = stateKey<string>(`${PREFIX_CACHE_AFFINITY_FILTER}/${name}`);
      const capacity = (e: Endpoint, blockChars: number) =>
        capacityOf(e, { blockChars, autoTune: settings.autoTune, fallback: settings.lruCapacityPerServer });
      /** True when the sticky endpoints are loaded past the configured penalties. */
      const overloaded = (sticky: readonly Endpoint[], others: readonly Endpoint[]) => {
        if (!load || others.length === 0) return false;
        const tokens = (es: readonly Endpoint[]) => min(es.map((e) => load.tokensInFlight(e)));
        const gap = tokens(sticky) - tokens(others);
        if (p.maxTokensInFlightPenalty !== undefined && gap > p.maxTokensInFlightPenalty) return true;
        return p.maxTTFTPenaltyMs > 0 && (gap / p.peakPrefillThroughput) * 1000 > p.maxTTFTPenaltyMs;
      };
      return {
        type: PREFIX_CACHE_AFFINITY_FILTER,
        name,
        filter(ctx, endpoints) {
          const m = prefixMatch(
            ctx,
            index,
            { blockChars: blockCharsOf(settings, endpoints), maxBlocks: settings.maxPrefixBlocksToMatch },
            endpoints,
          );
          if (m.hashes.count === 0 || endpoints.length <= 1 || p.affinityThreshold <= 0) return endpoints;
          if (p.explorationProbability > 0 && deps.random() < p.explorationProbability) return endpoints;
          const sticky = endpoints.filter(
            (e) => (m.matches.get(e.name) ?? 0) / m.hashes.count >= p.affinityThreshold,
          );
          if (sticky.length === 0) return endpoints;
          const others = endpoints.filter((e) => !sticky.includes(e));
          return overloaded(sticky, others) ? endpoints : sticky;
        },
        preRequest(ctx, endpoints) {
          const primary = endpoints[0];
          const m = currentMatch(ctx);
          if (!primary || !m || m.hashes.count === 0) return;
          recordPick(ctx, index, primary, capacity(primary, m.blockChars));
          ctx.set(recordedOn, primary.name);
        },
        responseReceived(ctx, { endpoint }) {
          settlePending(ctx, index, "received", endpoint);
          const m = currentMatch(ctx);
          const recorded = ctx.get(recordedOn);
          if (!m || recorded === undefined || recorded === endpoint.name) return;
          index.record(endpoint.name, m.hashes.keys, capacity(endpoint, m.blockChars));
        },
        responseComplete(ctx) {
          settlePending(ctx, index, "complete");
        },
      };
    },
  ),
};
