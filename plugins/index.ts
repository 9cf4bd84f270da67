import type { FlowPlugins } from "../src/flow/admitter.ts";
import type { SubscriberFactory } from "../src/kvevents/pool.ts";
import { type PluginDefinition, PluginRegistry } from "../src/scheduling/framework/registry.ts";
import { activeRequestScorerPlugin } from "./active-request-scorer.ts";
import { agentIdentityPlugin } from "./agent-identity.ts";
import { approxPrefixCacheProducerPlugin } from "./approx-prefix-cache-producer.ts";
import { BUILTIN_EQUIVALENTS } from "./builtin-equivalents.ts";
import { decodeFilterPlugin } from "./decode-filter.ts";
import {
  builtinFlowPolicies,
  createSaturationDetector,
  createUsageLimitPolicy,
  defaultSaturationDetector,
  FLOW_PLUGIN_TYPES,
} from "./flow/index.ts";
import { inflightLoadProducerPlugin, inflightLoadProducerPluginWith } from "./inflight-load-producer.ts";
import { type InFlightTokenCounter, inflightTokenCounter } from "./inflight-token-counter.ts";
import { kvCacheUtilizationScorerPlugin } from "./kv-cache-utilization-scorer.ts";
import { labelSelectorFilterPlugin } from "./label-selector-filter.ts";
import { loraAffinityScorerPlugin } from "./lora-affinity-scorer.ts";
import { maxScorePickerPlugin } from "./max-score-picker.ts";
import { noHitLruScorerPlugin } from "./no-hit-lru-scorer.ts";
import { registerPrecisePrefix } from "./precise-prefix-cache.ts";
import { prefixCacheAffinityFilterPlugin } from "./prefix-cache-affinity-filter.ts";
import { prefixCacheScorerPlugin } from "./prefix-cache-scorer.ts";
import { queueScorerPlugin } from "./queue-scorer.ts";
import { randomPickerPlugin } from "./random-picker.ts";
import { roundRobinPickerPlugin } from "./round-robin-picker.ts";
import { runningRequestsSizeScorerPlugin } from "./running-requests-size-scorer.ts";
import { sessionAffinityScorerPlugin } from "./session-affinity-scorer.ts";
import { singleProfileHandlerPlugin } from "./single-profile-handler.ts";
import { tokenLoadScorerPlugin } from "./token-load-scorer.ts";
import { UPSTREAM_ONLY_TYPES } from "./upstream-types.ts";
import { utilizationFilterPlugin } from "./utilization-filter.ts";
import { weightedRandomPickerPlugin } from "./weighted-random-picker.ts";

/** Every built-in scheduling plugin (filters, scorers, pickers, profile handlers, lifecycle hooks). */
export const SCHEDULING_PLUGINS: readonly PluginDefinition[] = [
  queueScorerPlugin,
  kvCacheUtilizationScorerPlugin,
  prefixCacheScorerPlugin,
  loraAffinityScorerPlugin,
  runningRequestsSizeScorerPlugin,
  sessionAffinityScorerPlugin,
  utilizationFilterPlugin,
  labelSelectorFilterPlugin,
  maxScorePickerPlugin,
  randomPickerPlugin,
  weightedRandomPickerPlugin,
  roundRobinPickerPlugin,
  singleProfileHandlerPlugin,
  approxPrefixCacheProducerPlugin,
  noHitLruScorerPlugin,
  activeRequestScorerPlugin,
  decodeFilterPlugin,
  inflightLoadProducerPlugin,
  tokenLoadScorerPlugin,
  prefixCacheAffinityFilterPlugin,
  agentIdentityPlugin,
  ...BUILTIN_EQUIVALENTS,
];

/**
 * Registers the built-in scheduling plugins on `registry` (custom ones may be added before
 * or after). With `tokens`, inflight-load-producer instances feed that counter.
 */
export function registerBuiltins(
  registry: PluginRegistry,
  tokens?: InFlightTokenCounter,
  kvSubscriber?: SubscriberFactory,
): PluginRegistry {
  for (const d of SCHEDULING_PLUGINS) {
    const p = tokens && d === inflightLoadProducerPlugin ? inflightLoadProducerPluginWith(tokens) : d;
    registry.register(p.type, p.factory, { producer: p.producer === true });
  }
  registry.declareForeign(FLOW_PLUGIN_TYPES);
  registry.declareUnsupported(UPSTREAM_ONLY_TYPES);
  registerPrecisePrefix(registry, kvSubscriber ? { subscriber: kvSubscriber } : {});
  return registry;
}

/** A fresh registry with every built-in scheduling plugin; flow-control types are known as foreign. */
export function builtinRegistry(
  tokens?: InFlightTokenCounter,
  kvSubscriber?: SubscriberFactory,
): PluginRegistry {
  return registerBuiltins(new PluginRegistry(), tokens, kvSubscriber);
}

/** The built-in flow-control plugins: fairness and ordering policies, saturation detectors. */
export const FLOW_PLUGINS: FlowPlugins = {
  types: FLOW_PLUGIN_TYPES,
  policies: builtinFlowPolicies,
  detector: (spec, declared) => createSaturationDetector(spec, declared ? { declared } : {}),
  defaultDetector: defaultSaturationDetector,
  usageLimit: createUsageLimitPolicy,
};

/**
 * The flow-control plugins over one gateway's token counter: the concurrency detector's
 * `tokens` / `hybrid` modes read what that gateway's inflight-load-producers count.
 */
export function flowPlugins(tokens?: InFlightTokenCounter): FlowPlugins {
  return {
    ...FLOW_PLUGINS,
    detector: (spec, declared) =>
      createSaturationDetector(spec, { ...(tokens ? { tokens } : {}), ...(declared ? { declared } : {}) }),
  };
}

/**
 * Everything `createGateway` wires in: the scheduling registry and the flow-control
 * plugins, sharing one counter of the prompt tokens in flight.
 */
export function builtinPlugins(
  opts: {
    /** The runtime's TCP subscriber for vLLM KV events (Bun and Node entries); precise mode falls back without it. */
    kvSubscriber?: SubscriberFactory;
  } = {},
): { registry: PluginRegistry; flow: FlowPlugins } {
  const tokens = inflightTokenCounter();
  return { registry: builtinRegistry(tokens, opts.kvSubscriber), flow: flowPlugins(tokens) };
}
