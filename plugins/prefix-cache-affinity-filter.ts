/**
 * prefix-cache-affinity-filter (llm-d v0.10, the optimized-baseline guide's default):
 * keep only the "sticky" endpoints, those whose cached share of the prompt is at least
 * `affinityThreshold`, unless they are so loaded that another endpoint would answer first.
 *
 *   match(e)  = matched prefix blocks on e / prompt blocks  (approximate prefix index)
 *   sticky    = { e : match(e) >= affinityThreshold };  none sticky -> keep all
 *   ttft(e)   = tokensInFlight(e) / peakPrefillThroughput x 1000  (ms)
 *   break     = min ttft(sticky) - min ttft(others) > maxTTFTPenaltyMs   (0 = never break)
 *               or min tokens(sticky) - min tokens(others) > maxTokensInFlightPenalty (when set)
 *   with probability explorationProbability the gate is skipped (keep all)
 *
 * Inputs: the prompt's block hashes (block size and window from the config's
 * approx-prefix-cache-producer, else 16 tokens x 256 blocks), the pool's prefix index, and
 * the tokens in flight from an inflight-load-producer (without one the load gate is
 * skipped and all endpoints are kept, as upstream does on a missing signal). Like the
 * prefix scorer it records the request's blocks on the primary (PreRequest) and on a
 * fallback that served (ResponseReceived), so a config without a prefix scorer still
 * builds the index. Parameters (upstream names): `affinityThreshold` (0.80),
 * `explorationProbability` (0), `maxTTFTPenaltyMs` (18,000), `peakPrefillThroughput`
 * (15,928 tokens/s), `maxTokensInFlightPenalty`, `ttftSource` (`prefillThroughput` only:
 * `latencyPredictor` needs the latency-predictor sidecar).
 */
import * as v from "valibot";
import type { Endpoint } from "../src/endpoints/types.ts";
import {
  type Filter,
  type PreRequest,
  type ResponseReceived,
  stateKey,
} from "../src/scheduling/framework/interfaces.ts";
import { type PluginDefinition, withParameters } from "../src/scheduling/framework/registry.ts";
import { CHARS_PER_TOKEN, DEFAULT_BLOCK_TOKENS, type PrefixHashes } from "../src/scheduling/prefix/hashes.ts";
import { prefixSettingsOf } from "./approx-prefix-cache-producer.ts";
import { isInFlightTokens } from "./inflight-load-producer.ts";
import { commonBlockSize } from "./prefix-cache-scorer.ts";

export const PREFIX_CACHE_AFFINITY_FILTER = "prefix-cache-affinity-filter";

const Parameters = v.strictObject({
  affinityThreshold: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1)), 0.8),
  explorationProbability: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1)), 0),
  maxTTFTPenaltyMs: v.optional(v.pipe(v.number(), v.minValue(0)), 18_000),
  peakPrefillThroughput: v.optional(v.pipe(v.number(), v.gtValue(0)), 15_928),
  maxTokensInFlightPenalty: v.optional(v.pipe(v.number(), v.minValue(0))),
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
  factory: withParameters(Parameters, (name, p, deps): Filter & PreRequest & ResponseReceived => {
    const settings = prefixSettingsOf(deps.producers);
    const load = [...(deps.producers?.values() ?? [])].find(isInFlightTokens);
    const index = deps.prefixIndex;
    const key = stateKey<{ hashes: PrefixHashes; recordedOn?: string }>(
      `${PREFIX_CACHE_AFFINITY_FILTER}/${name}`,
    );
    const blockChars = (endpoints: readonly Endpoint[]) => {
      const tuned = settings.autoTune ? commonBlockSize(endpoints) : undefined;
      const tokens = tuned === undefined ? settings.blockSizeTokens : Math.max(tuned, DEFAULT_BLOCK_TOKENS);
      return tokens * CHARS_PER_TOKEN;
    };
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
        const hashes = ctx.prefixHashes(blockChars(endpoints), settings.maxPrefixBlocksToMatch);
        ctx.set(key, { hashes });
        if (hashes.count === 0) return endpoints;
        if (p.explorationProbability > 0 && deps.random() < p.explorationProbability) return endpoints;
        const matches = index.match(hashes.keys);
        const sticky = endpoints.filter(
          (e) => (matches.get(e.name) ?? 0) / hashes.count >= p.affinityThreshold,
        );
        if (sticky.length === 0) return endpoints;
        const others = endpoints.filter((e) => !sticky.includes(e));
        return overloaded(sticky, others) ? endpoints : sticky;
      },
      preRequest(ctx, endpoints) {
        const state = ctx.get(key);
        const primary = endpoints[0];
        if (!state || !primary || state.hashes.count === 0) return;
        index.record(primary.name, state.hashes.keys, settings.lruCapacityPerServer);
        ctx.set(key, { ...state, recordedOn: primary.name });
      },
      responseReceived(ctx, { endpoint }) {
        const state = ctx.get(key);
        if (!state?.recordedOn || state.recordedOn === endpoint.name) return;
        index.record(endpoint.name, state.hashes.keys, settings.lruCapacityPerServer);
      },
    };
  }),
};
