/**
 * edf-ordering-policy: earliest deadline first inside a flow.
 *
 *   deadline(x)   = arrivedAt(x) + (x.request.deadlineMs ?? ttlMs(x))
 *   compare(a, b) = deadline(a) - deadline(b)        (ties: arrival order, by the controller)
 *
 * Inputs: arrival time, the request's optional latency budget `deadlineMs` (e.g. from
 * an SLO header) and the queue TTL. Without budgets EDF equals FCFS. Parameters: none.
 */
import * as v from "valibot";
import { pluginName, pluginParams } from "../../src/flow/control/params.ts";
import type { OrderingPolicy, PluginFactory, QueueItemView } from "../../src/flow/control/types.ts";

export const EDF_ORDERING_POLICY = "edf-ordering-policy";

/** Absolute deadline (clock ms) of a queued request. */
export const deadlineOf = (x: QueueItemView): number => x.arrivedAt + (x.request.deadlineMs ?? x.ttlMs);

export function edfOrderingPolicy(name = EDF_ORDERING_POLICY): OrderingPolicy {
  return { type: EDF_ORDERING_POLICY, name, compare: (a, b) => deadlineOf(a) - deadlineOf(b) };
}

export const edfOrderingPolicyFactory: PluginFactory<OrderingPolicy> = {
  type: EDF_ORDERING_POLICY,
  create(spec) {
    pluginParams(v.strictObject({}), spec);
    return edfOrderingPolicy(pluginName(spec));
  },
};
