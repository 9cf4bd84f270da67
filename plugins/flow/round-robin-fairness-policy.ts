/**
 * round-robin-fairness-policy: flows take turns, one request each.
 *
 *   rotation = active flows in the order they became active
 *   pick     = front of the rotation; after its dispatch it moves to the back
 *
 * A flow that empties leaves the rotation and rejoins at the back when it has work
 * again. With A, B, C backlogged the order is A B C A B C ...; a flow with 100 queued
 * and one with 10 alternate until the smaller one drains.
 * Inputs: activation and dispatch events. Parameters: none.
 * State per band: the rotation (an insertion-ordered Set; O(1) per event).
 */
import * as v from "valibot";
import { pluginName, pluginParams } from "../../src/flow/control/params.ts";
import type { FairnessPolicy, FlowView, PluginFactory } from "../../src/flow/control/types.ts";

export const ROUND_ROBIN_FAIRNESS_POLICY = "round-robin-fairness-policy";

export function roundRobinFairnessPolicy(name = ROUND_ROBIN_FAIRNESS_POLICY): FairnessPolicy<Set<FlowView>> {
  return {
    type: ROUND_ROBIN_FAIRNESS_POLICY,
    name,
    newState: () => new Set<FlowView>(),
    activated(rotation, flow) {
      rotation.add(flow);
    },
    deactivated(rotation, flow) {
      rotation.delete(flow);
    },
    pick(rotation, flows) {
      return rotation.values().next().value ?? flows[0]!;
    },
    dispatched(rotation, flow) {
      if (rotation.delete(flow)) rotation.add(flow);
    },
  };
}

export const roundRobinFairnessPolicyFactory: PluginFactory<FairnessPolicy> = {
  type: ROUND_ROBIN_FAIRNESS_POLICY,
  create(spec) {
    pluginParams(v.strictObject({}), spec);
    return roundRobinFairnessPolicy(pluginName(spec)) as FairnessPolicy;
  },
};
