/**
 * no-hit-lru-scorer (llm-d): spread requests that hit no cached prefix (cold requests)
 * over the endpoints, least recently used first, so new prefixes grow caches evenly
 * instead of piling onto the least-loaded pod.
 *
 *   cold request: endpoints that never took a cold request score 1; the n others score
 *                 (n - 1 - r) / n by the age rank r of their last cold request
 *                 (oldest r = 0 .. newest r = n - 1, which scores 0)
 *   warm request: 0.5 for every endpoint (neutral; the prefix scorer decides)
 *
 * Input: NEW_PREFIX, set by the prefix-cache scorer that runs before it in the profile
 * (absent = warm); on a cold request it clears NEW_PREFIX so the picker uses its narrow
 * tie band. Its PreRequest hook marks the primary of a cold request as most recently used. Parameters (upstream names): `lruSize` (1024 endpoints remembered),
 * `prefixPluginType`, `prefixPluginName` (accepted; the framework's NEW_PREFIX comes
 * from whichever prefix scorer ran).
 */
import * as v from "valibot";
import {
  NEW_PREFIX,
  type PreRequest,
  type Scorer,
  stateKey,
} from "../src/scheduling/framework/interfaces.ts";
import { type PluginDefinition, withParameters } from "../src/scheduling/framework/registry.ts";

export const NO_HIT_LRU_SCORER = "no-hit-lru-scorer";

const Parameters = v.strictObject({
  lruSize: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 1024),
  prefixPluginType: v.optional(v.string()),
  prefixPluginName: v.optional(v.string()),
});

export function noHitLruScorer(opts: { name?: string; lruSize?: number } = {}): Scorer & PreRequest {
  const lruSize = opts.lruSize ?? 1024;
  /** Endpoint name -> sequence number of its last cold request (Map order = recency). */
  const lastCold = new Map<string, number>();
  let seq = 0;
  const cold = stateKey<boolean>(`${NO_HIT_LRU_SCORER}/cold`);
  return {
    type: NO_HIT_LRU_SCORER,
    name: opts.name ?? NO_HIT_LRU_SCORER,
    score(ctx, endpoints) {
      if (ctx.get(NEW_PREFIX) !== true) return endpoints.map(() => 0.5);
      // This scorer spreads cold requests itself: the picker's wide, hash-ordered tie band
      // for new prefixes (replicas agreeing without the LRU) would undo the spreading.
      ctx.set(cold, true);
      ctx.set(NEW_PREFIX, false);
      const used = endpoints
        .filter((e) => lastCold.has(e.name))
        .sort((a, b) => lastCold.get(a.name)! - lastCold.get(b.name)!);
      const rank = new Map(used.map((e, i) => [e.name, i]));
      const n = used.length;
      return endpoints.map((e) => {
        const r = rank.get(e.name);
        return r === undefined ? 1 : (n - 1 - r) / n;
      });
    },
    preRequest(ctx, endpoints) {
      const primary = endpoints[0];
      if (ctx.get(cold) !== true || primary === undefined) return;
      lastCold.delete(primary.name);
      lastCold.set(primary.name, ++seq);
      if (lastCold.size > lruSize) lastCold.delete(lastCold.keys().next().value!);
    },
  };
}

export const noHitLruScorerPlugin: PluginDefinition = {
  type: NO_HIT_LRU_SCORER,
  factory: withParameters(Parameters, (name, params) => noHitLruScorer({ name, lruSize: params.lruSize })),
};
