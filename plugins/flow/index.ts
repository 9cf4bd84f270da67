/**
 * The built-in flow-control plugins, registered in one place: fairness and ordering
 * policies, saturation detectors. Named instances come from an EndpointPickerConfig's
 * `plugins: [{type, name?, parameters?}]`; a band's `fairnessPolicyRef` /
 * `orderingPolicyRef` may name such an instance or a built-in type (default parameters).
 */
import { ConfigError } from "../../src/config/errors.ts";
import { pluginName, pluginParams } from "../../src/flow/control/params.ts";
import type {
  FairnessPolicy,
  FlowPolicies,
  OrderingPolicy,
  PluginFactory,
  PluginSpec,
  SaturationDetector,
} from "../../src/flow/control/types.ts";
import type { InFlightTokenCounter } from "../inflight-token-counter.ts";
import {
  CONCURRENCY_DETECTOR,
  concurrencyDetector,
  concurrencyDetectorFactory,
} from "./concurrency-detector.ts";
import { edfOrderingPolicyFactory } from "./edf-ordering-policy.ts";
import { fcfsOrderingPolicyFactory } from "./fcfs-ordering-policy.ts";
import { globalStrictFairnessPolicyFactory } from "./global-strict-fairness-policy.ts";
import {
  MAX_SATURATION_DETECTOR,
  MaxSaturationParamsSchema,
  maxSaturationDetector,
} from "./max-saturation-detector.ts";
import { programAwareFairnessPolicyFactory } from "./program-aware-fairness-policy.ts";
import { roundRobinFairnessPolicyFactory } from "./round-robin-fairness-policy.ts";
import { tokenFairnessPolicyFactory } from "./token-fairness-policy.ts";
import { USAGE_LIMIT_POLICIES } from "./usage-limit-policies.ts";
import { utilizationDetector, utilizationDetectorFactory } from "./utilization-detector.ts";

export const FAIRNESS_POLICY_FACTORIES: readonly PluginFactory<FairnessPolicy>[] = [
  globalStrictFairnessPolicyFactory,
  roundRobinFairnessPolicyFactory,
  tokenFairnessPolicyFactory,
  programAwareFairnessPolicyFactory,
];

export const ORDERING_POLICY_FACTORIES: readonly PluginFactory<OrderingPolicy>[] = [
  fcfsOrderingPolicyFactory,
  edfOrderingPolicyFactory,
];

export const SATURATION_DETECTOR_FACTORIES: readonly PluginFactory<SaturationDetector>[] = [
  utilizationDetectorFactory,
  concurrencyDetectorFactory(undefined),
];

/** Every flow-control plugin type an EndpointPickerConfig's `plugins` may declare; scheduling skips them. */
export const FLOW_PLUGIN_TYPES: readonly string[] = [
  ...FAIRNESS_POLICY_FACTORIES.map((f) => f.type),
  ...ORDERING_POLICY_FACTORIES.map((f) => f.type),
  ...SATURATION_DETECTOR_FACTORIES.map((f) => f.type),
  MAX_SATURATION_DETECTOR,
  ...Object.keys(USAGE_LIMIT_POLICIES),
];

const byType = <P>(factories: readonly PluginFactory<P>[]) => new Map(factories.map((f) => [f.type, f]));
const FAIRNESS = byType(FAIRNESS_POLICY_FACTORIES);
const ORDERING = byType(ORDERING_POLICY_FACTORIES);
const DETECTORS = byType(SATURATION_DETECTOR_FACTORIES);

/**
 * Policies by name: every built-in type (default parameters) plus the flow policies
 * declared in `plugins` (other plugin types are ignored). A declared name wins.
 */
export function builtinFlowPolicies(plugins: readonly PluginSpec[] = []): FlowPolicies {
  const fairness = new Map<string, FairnessPolicy>();
  const ordering = new Map<string, OrderingPolicy>();
  for (const spec of plugins) {
    const ff = FAIRNESS.get(spec.type);
    if (ff) fairness.set(pluginName(spec), ff.create(spec));
    const of = ORDERING.get(spec.type);
    if (of) ordering.set(pluginName(spec), of.create(spec));
  }
  // A built-in type with default parameters is built when a band names it, not before:
  // some defaults cannot run (program-aware-fairness's `las`), and only a reference to
  // one should stop start-up.
  const byRef =
    <P>(declared: Map<string, P>, factories: Map<string, PluginFactory<P>>) =>
    (ref: string): P | undefined => {
      const p = declared.get(ref);
      if (p) return p;
      const f = factories.get(ref);
      if (!f) return undefined;
      const built = f.create({ type: f.type });
      declared.set(ref, built);
      return built;
    };
  return { fairness: byRef(fairness, FAIRNESS), ordering: byRef(ordering, ORDERING) };
}

/** What a detector may read besides its spec: the gateway's token counter, the config's `plugins`. */
export interface DetectorContext {
  readonly tokens?: InFlightTokenCounter;
  readonly declared?: readonly PluginSpec[];
}

/** Builds a saturation detector from its YAML spec (`max-saturation-detector` nests specs). */
export function createSaturationDetector(spec: PluginSpec, ctx: DetectorContext = {}): SaturationDetector {
  if (spec.type === MAX_SATURATION_DETECTOR) {
    const { detectors } = pluginParams(MaxSaturationParamsSchema, spec);
    return maxSaturationDetector(
      detectors.map((d) => createSaturationDetector(d, ctx)),
      pluginName(spec),
    );
  }
  if (spec.type === CONCURRENCY_DETECTOR)
    return concurrencyDetectorFactory(ctx.tokens).create(spec, ctx.declared);
  const factory = DETECTORS.get(spec.type);
  if (!factory)
    throw new ConfigError({
      path: `plugins[${pluginName(spec)}].type`,
      expected: `a saturation detector: ${[...DETECTORS.keys(), MAX_SATURATION_DETECTOR].join(", ")}`,
      received: JSON.stringify(spec.type),
    });
  return factory.create(spec);
}

/** The default: max(utilization-detector, concurrency-detector), both with default parameters. */
export function defaultSaturationDetector(): SaturationDetector {
  return maxSaturationDetector([utilizationDetector(), concurrencyDetector()], "default-saturation-detector");
}

/** Builds a usage-limit policy from its spec; undefined for a type that is not one. */
export function createUsageLimitPolicy(spec: PluginSpec) {
  return USAGE_LIMIT_POLICIES[spec.type]?.(spec);
}
