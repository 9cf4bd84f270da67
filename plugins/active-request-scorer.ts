/**
 * active-request-scorer (llm-d): prefer endpoints with fewer requests in flight from
 * this gateway.
 *
 *   score = (max - active) / max over the candidates; 1 for all when none is active
 *
 * Input: `ctx.load(e).inflight`, the gateway's own in-flight count (exact and live: a
 * request counts from dispatch until its answer ends, so no timeout is needed).
 * Parameters (upstream names): `requestTimeout` (accepted; upstream's guard against
 * requests whose end it never sees, which this gateway always sees).
 */
import * as v from "valibot";
import type { Scorer } from "../src/scheduling/framework/interfaces.ts";
import { type PluginDefinition, withParameters } from "../src/scheduling/framework/registry.ts";

export const ACTIVE_REQUEST_SCORER = "active-request-scorer";

export function activeRequestScorer(name = ACTIVE_REQUEST_SCORER): Scorer {
  return {
    type: ACTIVE_REQUEST_SCORER,
    name,
    score(ctx, endpoints) {
      const active = endpoints.map((e) => ctx.load(e).inflight);
      const max = Math.max(0, ...active);
      return active.map((a) => (max > 0 ? (max - a) / max : 1));
    },
  };
}

export const activeRequestScorerPlugin: PluginDefinition = {
  type: ACTIVE_REQUEST_SCORER,
  factory: withParameters(
    v.strictObject({ requestTimeout: v.optional(v.union([v.string(), v.number()])) }),
    (name) => activeRequestScorer(name),
  ),
};
