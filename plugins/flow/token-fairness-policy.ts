/**
 * token-fairness-policy: work-based fairness between flows, after the Virtual Token
 * Counter (VTC, Sheng et al., "Fairness in Serving Large Language Models", OSDI '24).
 *
 *   service(r)   = inputTokens(r) * inputTokenWeight + outputTokens(r) * outputTokenWeight
 *   inputTokens  = ceil(bytes / bytesPerToken)
 *   outputTokens = r.expectedOutputTokens ?? defaultOutputTokens
 *   counter(f)  += service(r)                  when r of flow f is dispatched
 *   pick         = argmin counter(f) over active flows; ties: the flow served least
 *                  recently (never served first), then the best head under the ordering
 *   on activation: counter(f) = max(counter(f), min counter over the other active flows)
 *
 * The lift on activation keeps an idle flow from banking credit and then starving
 * the others. It often ties a returning flow with the busy one; the tie goes to the
 * returning flow (served longer ago), so it gets the next grant, not the busy flow
 * whose head is merely older. A flow sending 10x bigger prompts gets ~1/10 of the requests and about
 * the same tokens. Estimates are taken at dispatch (the real output is not known yet).
 *
 * Parameters: inputTokenWeight (1), outputTokenWeight (2, VTC's default), bytesPerToken (4),
 * defaultOutputTokens (0: unknown output is not guessed).
 * State per band: counters by fairness id. Bounded: a counter is dropped when its flow
 * empties at or below the active minimum (it would be lifted anyway), all are dropped
 * when the band empties (a new busy period), and at most `maxIdleCounters` are kept
 * for idle flows.
 */
import * as v from "valibot";
import { pluginName, pluginParams } from "../../src/flow/control/params.ts";
import type { FairnessPolicy, FlowView, PluginFactory, QueueItemView } from "../../src/flow/control/types.ts";

export const TOKEN_FAIRNESS_POLICY = "token-fairness-policy";

const Weight = v.pipe(v.number(), v.minValue(0));

export const TokenFairnessParamsSchema = v.strictObject({
  inputTokenWeight: v.optional(Weight, 1),
  outputTokenWeight: v.optional(Weight, 2),
  bytesPerToken: v.optional(v.pipe(v.number(), v.gtValue(0)), 4),
  defaultOutputTokens: v.optional(v.pipe(v.number(), v.minValue(0)), 0),
  maxIdleCounters: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 10_000),
});
export type TokenFairnessParams = v.InferOutput<typeof TokenFairnessParamsSchema>;

export interface TokenFairnessState {
  readonly counters: Map<string, number>;
  /** When each flow with a counter was last served (a dispatch sequence number). */
  readonly served: Map<string, number>;
  tick: number;
}

export function tokenFairnessPolicy(
  params: Partial<TokenFairnessParams> = {},
  name = TOKEN_FAIRNESS_POLICY,
): FairnessPolicy<TokenFairnessState> {
  const p = v.parse(TokenFairnessParamsSchema, params);
  const service = (r: QueueItemView) =>
    Math.ceil(r.bytes / p.bytesPerToken) * p.inputTokenWeight +
    (r.request.expectedOutputTokens ?? p.defaultOutputTokens) * p.outputTokenWeight;
  const minOf = (s: TokenFairnessState, flows: readonly FlowView[]) => {
    let m = Number.POSITIVE_INFINITY;
    for (const f of flows) m = Math.min(m, s.counters.get(f.fairnessId) ?? 0);
    return m;
  };
  return {
    type: TOKEN_FAIRNESS_POLICY,
    name,
    newState: () => ({ counters: new Map(), served: new Map(), tick: 0 }),
    activated(s, flow, others) {
      const own = s.counters.get(flow.fairnessId) ?? 0;
      const floor = others.length > 0 ? minOf(s, others) : 0;
      s.counters.set(flow.fairnessId, Math.max(own, floor));
    },
    deactivated(s, flow, active) {
      if (active.length === 0) {
        s.counters.clear();
        s.served.clear();
        return;
      }
      if ((s.counters.get(flow.fairnessId) ?? 0) <= minOf(s, active)) {
        s.counters.delete(flow.fairnessId);
        s.served.delete(flow.fairnessId);
      }
      if (s.counters.size > active.length + p.maxIdleCounters) {
        const keep = new Set(active.map((f) => f.fairnessId));
        for (const id of s.counters.keys())
          if (!keep.has(id)) {
            s.counters.delete(id);
            s.served.delete(id);
          }
      }
    },
    pick(s, flows, ctx) {
      let best = flows[0]!;
      let bestCounter = s.counters.get(best.fairnessId) ?? 0;
      let bestServed = s.served.get(best.fairnessId) ?? -1;
      for (let i = 1; i < flows.length; i++) {
        const f = flows[i]!;
        const c = s.counters.get(f.fairnessId) ?? 0;
        const served = s.served.get(f.fairnessId) ?? -1;
        const better =
          c < bestCounter ||
          (c === bestCounter &&
            (served < bestServed || (served === bestServed && ctx.compare(f.head(), best.head()) < 0)));
        if (better) {
          best = f;
          bestCounter = c;
          bestServed = served;
        }
      }
      return best;
    },
    dispatched(s, flow, item) {
      s.counters.set(flow.fairnessId, (s.counters.get(flow.fairnessId) ?? 0) + service(item));
      s.served.set(flow.fairnessId, s.tick++);
    },
  };
}

export const tokenFairnessPolicyFactory: PluginFactory<FairnessPolicy> = {
  type: TOKEN_FAIRNESS_POLICY,
  create(spec) {
    return tokenFairnessPolicy(
      pluginParams(TokenFairnessParamsSchema, spec),
      pluginName(spec),
    ) as FairnessPolicy;
  },
};
