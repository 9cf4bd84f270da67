/**
 * fcfs-ordering-policy: first come, first served inside a flow.
 *
 *   compare(a, b) = seq(a) - seq(b)      (seq grows with arrival; the oldest goes first)
 *
 * Inputs: the arrival sequence only. Parameters: none.
 */
import * as v from "valibot";
import { pluginName, pluginParams } from "../../src/flow/control/params.ts";
import type { OrderingPolicy, PluginFactory } from "../../src/flow/control/types.ts";

export const FCFS_ORDERING_POLICY = "fcfs-ordering-policy";

export function fcfsOrderingPolicy(name = FCFS_ORDERING_POLICY): OrderingPolicy {
  return { type: FCFS_ORDERING_POLICY, name, compare: (a, b) => a.seq - b.seq };
}

export const fcfsOrderingPolicyFactory: PluginFactory<OrderingPolicy> = {
  type: FCFS_ORDERING_POLICY,
  create(spec) {
    pluginParams(v.strictObject({}), spec);
    return fcfsOrderingPolicy(pluginName(spec));
  },
};
