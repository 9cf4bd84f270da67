/**
 * program-aware-fairness (llm-d-router v0.10): fairness between programs (one fairness id
 * per agent session), strategy `turn-priority`:
 *
 *   turn(f)  = dispatched(f) + 1, or 1 when the program was idle longer than
 *              turnPriorityInactivitySeconds (its prefix is likely cold)
 *   score(f) = turn(f) + turnPriorityTimeWeight * headWaitSeconds(f)
 *   pick     = argmax score; ties: the older head
 *
 * Deeper sessions most likely still have their prefix in the KV cache and finish sooner;
 * head wait is unbounded, so a shallow session overtakes once it has waited long enough.
 * `now` is the same for every flow in one pick, so argmax of turn - weight * arrivedAt
 * is the argmax of the score: no clock is needed.
 *
 * Differences from upstream, because flow control sees no completions: idleness is
 * measured from the arrival of the program's last dispatched request to the arrival of
 * its new head (upstream: last completion to now, with nothing in flight), and a
 * program's count is forgotten when it was idle longer than evictionTtlSeconds (upstream
 * sweeps every evictionSweepSeconds). Strategy `las` (upstream's default) needs the
 * completed token usage and is refused with a pointer to token-fairness-policy.
 * State per band: dispatched count and last arrival by fairness id, at most 10,000 idle.
 */
import * as v from "valibot";
import { ConfigError } from "../../src/config/errors.ts";
import { pluginName, pluginParams } from "../../src/flow/control/params.ts";
import type { FairnessPolicy, FlowView, PluginFactory } from "../../src/flow/control/types.ts";

export const PROGRAM_AWARE_FAIRNESS = "program-aware-fairness";

const NonNegative = v.pipe(v.number(), v.minValue(0));

/** Upstream's parameters and defaults; the `las*` ones are accepted for `las` configs' sake. */
export const ProgramAwareParamsSchema = v.strictObject({
  strategy: v.optional(v.picklist(["las", "turn-priority"]), "las"),
  turnPriorityTimeWeight: v.optional(NonNegative, 0.05),
  turnPriorityInactivitySeconds: v.optional(NonNegative, 120),
  lasWeightService: v.optional(NonNegative),
  lasWeightHeadWait: v.optional(NonNegative),
  lasHalfLifeSeconds: v.optional(NonNegative),
  evictionTtlSeconds: v.optional(v.pipe(v.number(), v.gtValue(0)), 3600),
  evictionSweepSeconds: v.optional(v.pipe(v.number(), v.gtValue(0)), 300),
});

interface Program {
  dispatched: number;
  /** Clock ms of the arrival of the last dispatched request. */
  lastArrival: number;
}

/** Per band: programs by fairness id, least recently active first. */
export type ProgramState = Map<string, Program>;

const MAX_PROGRAMS = 10_000;

export function programAwareFairnessPolicy(
  params: { timeWeight: number; inactivityMs: number; evictionMs: number },
  name = PROGRAM_AWARE_FAIRNESS,
): FairnessPolicy<ProgramState> {
  const { timeWeight, inactivityMs, evictionMs } = params;
  const turn = (s: ProgramState, flow: FlowView): number => {
    const p = s.get(flow.fairnessId);
    if (!p) return 1;
    const idleMs = flow.head().arrivedAt - p.lastArrival;
    return inactivityMs > 0 && idleMs > inactivityMs ? 1 : p.dispatched + 1;
  };
  return {
    type: PROGRAM_AWARE_FAIRNESS,
    name,
    newState: () => new Map(),
    activated(s, flow) {
      const p = s.get(flow.fairnessId);
      if (p && flow.head().arrivedAt - p.lastArrival > evictionMs) s.delete(flow.fairnessId);
    },
    pick(s, flows) {
      let best = flows[0]!;
      let bestScore = Number.NEGATIVE_INFINITY;
      let bestArrival = Number.POSITIVE_INFINITY;
      for (const f of flows) {
        const arrivedAt = f.head().arrivedAt;
        // score - timeWeight * now: the shared `now` term drops out of the comparison.
        const score = turn(s, f) - (timeWeight * arrivedAt) / 1000;
        if (score > bestScore || (score === bestScore && arrivedAt < bestArrival)) {
          best = f;
          bestScore = score;
          bestArrival = arrivedAt;
        }
      }
      return best;
    },
    dispatched(s, flow, item) {
      const p = s.get(flow.fairnessId) ?? { dispatched: 0, lastArrival: item.arrivedAt };
      p.dispatched += 1;
      p.lastArrival = Math.max(p.lastArrival, item.arrivedAt);
      s.delete(flow.fairnessId);
      s.set(flow.fairnessId, p);
      if (s.size > MAX_PROGRAMS) s.delete(s.keys().next().value as string);
    },
  };
}

export const programAwareFairnessPolicyFactory: PluginFactory<FairnessPolicy> = {
  type: PROGRAM_AWARE_FAIRNESS,
  create(spec) {
    const p = pluginParams(ProgramAwareParamsSchema, spec);
    if (p.strategy === "las")
      throw new ConfigError({
        path: `plugins[${pluginName(spec)}].parameters.strategy`,
        expected:
          "strategy: turn-priority (strategy las, the upstream default, needs completed token usage, which flow control does not see; for token-based fairness use token-fairness-policy)",
        received: JSON.stringify(p.strategy),
      });
    return programAwareFairnessPolicy(
      {
        timeWeight: p.turnPriorityTimeWeight,
        inactivityMs: p.turnPriorityInactivitySeconds * 1000,
        evictionMs: p.evictionTtlSeconds * 1000,
      },
      pluginName(spec),
    ) as FairnessPolicy;
  },
};
