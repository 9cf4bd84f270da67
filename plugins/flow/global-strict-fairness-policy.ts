/**
 * global-strict-fairness-policy (the default): serve the best head-of-line request
 * across all flows of the band.
 *
 *   pick(flows) = argmin over flows f of head(f), under the band's ordering
 *
 * With fcfs ordering this is the oldest request of the band (global FCFS); with edf
 * it is the earliest deadline of the band. Flows get no protection from each other.
 * Inputs: each flow's head. Parameters: none. State: none.
 */
import * as v from "valibot";
import { pluginName, pluginParams } from "../../src/flow/control/params.ts";
import type { FairnessPolicy, PluginFactory } from "../../src/flow/control/types.ts";

export const GLOBAL_STRICT_FAIRNESS_POLICY = "global-strict-fairness-policy";

export function globalStrictFairnessPolicy(name = GLOBAL_STRICT_FAIRNESS_POLICY): FairnessPolicy<undefined> {
  return {
    type: GLOBAL_STRICT_FAIRNESS_POLICY,
    name,
    newState: () => undefined,
    pick(_state, flows, ctx) {
      let best = flows[0]!;
      let bestHead = best.head();
      for (let i = 1; i < flows.length; i++) {
        const f = flows[i]!;
        const h = f.head();
        if (ctx.compare(h, bestHead) < 0) {
          best = f;
          bestHead = h;
        }
      }
      return best;
    },
  };
}

export const globalStrictFairnessPolicyFactory: PluginFactory<FairnessPolicy> = {
  type: GLOBAL_STRICT_FAIRNESS_POLICY,
  create(spec) {
    pluginParams(v.strictObject({}), spec);
    return globalStrictFairnessPolicy(pluginName(spec)) as FairnessPolicy;
  },
};
