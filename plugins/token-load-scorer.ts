/**
 * token-load-scorer (llm-d v0.10): prefer endpoints with fewer prompt tokens in flight.
 *
 *   score = 1 - min(1, tokens(e) / queueThresholdTokens)
 *
 * Input: an inflight-load-producer in the same config (as upstream, the config must
 * declare one; without it start-up fails naming what to add). Parameters (upstream
 * names): `queueThresholdTokens` (4,194,304), `nonTextTokenWeight` (accepted; the
 * gateway counts prompt characters, so every token weighs the same).
 */
import * as v from "valibot";
import type { Scorer } from "../src/scheduling/framework/interfaces.ts";
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
});

export function tokenLoadScorer(opts: {
  name?: string;
  load: InFlightTokens;
  queueThresholdTokens: number;
}): Scorer {
  return {
    type: TOKEN_LOAD_SCORER,
    name: opts.name ?? TOKEN_LOAD_SCORER,
    score: (_ctx, endpoints) =>
      endpoints.map((e) => 1 - Math.min(1, opts.load.tokensInFlight(e) / opts.queueThresholdTokens)),
  };
}

/** The config's inflight-load-producer, or a ParameterError saying to declare one. */
export function inflightTokensOf(
  producers: ReadonlyMap<string, unknown> | undefined,
  who: string,
): InFlightTokens {
  const found = [...(producers?.values() ?? [])].find(isInFlightTokens);
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
      load: inflightTokensOf(deps.producers, TOKEN_LOAD_SCORER),
      queueThresholdTokens: params.queueThresholdTokens,
    }),
  ),
};
