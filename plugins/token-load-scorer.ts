/**
 * token-load-scorer (llm-d v0.10): prefer endpoints with less prefill work queued, this
 * request's included.
 *
 *   load(e)  = min(queueThresholdTokens, uncached tokens in flight on e + this request's
 *              tokens e has not cached)
 *   score(e) = (max load - load(e)) / (max load - min load) over the candidates; 1 for all
 *              when equal
 *
 * Upstream scores 1 - load / queueThresholdTokens; the order is the same, so with
 * max-score-picker the pick is the same (deliberate difference). Normalized because the
 * picker's rendezvous tie band (0.05 of the total) would otherwise treat as tied every pod
 * within 5 % of 4M tokens, i.e. place by hash whatever the load (measured: p90 up to 2×
 * load-only's on prompts that share nothing).
 *
 * So cache warmth lowers a request's cost on a warm endpoint in the same units as the
 * load it is compared against (upstream's InFlightLoad + CurrentRequestLoad). Input: an
 * inflight-load-producer in the same config (as upstream, the config must declare one;
 * without it start-up fails naming what to add). Parameters (upstream names):
 * `queueThresholdTokens` (4,194,304), `inFlightLoadProducerName` (default: the config's
 * only one), `nonTextTokenWeight` (accepted; the gateway counts prompt characters, so
 * every token weighs the same).
 */
import * as v from "valibot";
import type { Scorer } from "../src/scheduling/framework/interfaces.ts";
import { lowerIsBetter } from "../src/scheduling/framework/normalize.ts";
import {
  ParameterError,
  type PluginDefinition,
  withParameters,
} from "../src/scheduling/framework/registry.ts";
import { type InFlightTokens, isInFlightTokens } from "./inflight-load-producer.ts";

export const TOKEN_LOAD_SCORER = "token-load-scorer";

const Parameters = v.strictObject({
  queueThresholdTokens: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 4_194_304),
  nonTextTokenWeight: v.optional(v.number()),
  inFlightLoadProducerName: v.optional(v.pipe(v.string(), v.minLength(1))),
});

export function tokenLoadScorer(opts: {
  name?: string;
  load: InFlightTokens;
  queueThresholdTokens: number;
}): Scorer {
  return {
    type: TOKEN_LOAD_SCORER,
    name: opts.name ?? TOKEN_LOAD_SCORER,
    score(ctx, endpoints) {
      const own = opts.load.requestTokens(ctx, endpoints);
      return lowerIsBetter(
        endpoints.map((e, i) => Math.min(opts.queueThresholdTokens, opts.load.tokensInFlight(e) + own[i]!)),
      );
    },
  };
}

/** The config's inflight-load-producer, or a ParameterError saying to declare one. */
export function inflightTokensOf(
  producers: ReadonlyMap<string, unknown> | undefined,
  who: string,
  wanted?: string,
): InFlightTokens {
  const all = [...(producers?.values() ?? [])].filter(isInFlightTokens);
  const found = wanted ? all.find((p) => p.name === wanted) : all[0];
  if (wanted && !found)
    throw new ParameterError(
      "inFlightLoadProducerName",
      `the name of an inflight-load-producer in plugins (defined: ${all.map((p) => p.name).join(", ") || "none"})`,
      JSON.stringify(wanted),
    );
  if (!found)
    throw new ParameterError(
      "",
      `an inflight-load-producer declared in plugins (${who} reads the tokens in flight it counts): add "- type: inflight-load-producer"`,
    );
  return found;
}

export const tokenLoadScorerPlugin: PluginDefinition = {
  type: TOKEN_LOAD_SCORER,
  factory: withParameters(Parameters, (name, params, deps) =>
    tokenLoadScorer({
      name,
      load: inflightTokensOf(deps.producers, TOKEN_LOAD_SCORER, params.inFlightLoadProducerName),
      queueThresholdTokens: params.queueThresholdTokens,
    }),
  ),
};
