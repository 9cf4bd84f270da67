import type { Clock, SetTimer } from "../clock.ts";
import { ConfigError } from "../config/errors.ts";
import type { ConfigHolder } from "../config/holder.ts";
import type { EndpointPickerConfig } from "../config/resources.ts";
import type { InFlight } from "../endpoints/inflight.ts";
import type { EndpointStore } from "../endpoints/store.ts";
import { type EjectionView, usableEndpoints } from "../endpoints/usable.ts";
import type { Logger } from "../log.ts";
import type { LoadTracker } from "../scheduling/framework/load.ts";
import type { Admitter } from "../stages/admit.ts";
import { flowControlNotes } from "./control/config.ts";
import { createFlowController, poolSaturation, trackedLoads, type UsageGate } from "./control/index.ts";
import type { FlowObserver, FlowPolicies, PluginSpec, SaturationDetector } from "./control/types.ts";
import { gateOffAdmitter } from "./gate-off.ts";
import { priorityOf } from "./objectives.ts";
import { type SuccessiveFlowController, successiveFlowController } from "./successor.ts";

const ALL_HEALTHY: EjectionView = { allHealthy: true, isEjected: () => false };

const DETECTOR_TYPES = new Set(["utilization-detector", "concurrency-detector", "max-saturation-detector"]);

/**
 * The flow-control plugins the composition root (`plugins/index.ts`) hands in; flow
 * control imports none itself.
 */
export interface FlowPlugins {
  /** Every flow-control plugin type a `plugins:` list may declare. */
  readonly types: readonly string[];
  /** Policies by name: built-in types plus the named instances declared in `plugins`. */
  policies(plugins: readonly PluginSpec[]): FlowPolicies;
  /**
   * Builds a saturation detector from its spec; throws ConfigError for a bad one.
   * `declared` is the config's `plugins` (a detector may need another plugin declared).
   */
  detector(spec: PluginSpec, declared?: readonly PluginSpec[]): SaturationDetector;
  /** The detector when the config declares none. */
  defaultDetector(): SaturationDetector;
  /** A usage-limit policy from its spec; undefined when the type is not one. */
  usageLimit(spec: PluginSpec): UsageLimitPolicy | undefined;
}

/**
 * A usage-limit policy as flow control applies it: static ceilings per listed priority,
 * and, for a policy whose gating moves with saturation on every dispatch call, a fresh
 * per-call gate for each flow controller built (`gate`, see FlowControllerOptions.usageGate).
 */
export interface UsageLimitPolicy {
  readonly type: string;
  readonly name: string;
  ceilings(priorities: readonly number[]): {
    readonly byPriority: ReadonlyMap<number, number>;
    readonly unlisted: number;
    readonly note?: string;
  };
  gate?(): UsageGate;
}

/**
 * The flowControl section with `usageLimitPolicyPluginRef`'s policy applied as each band's
 * `ceiling` (a band's own `ceiling` wins), and the line to log when the policy is applied
 * differently from upstream. Unchanged without a ref.
 */
export function withUsageLimits(
  picker: EndpointPickerConfig,
  plugins: FlowPlugins,
): { flowControl: EndpointPickerConfig["flowControl"]; note?: string; gate?: UsageGate } {
  const fc = picker.flowControl;
  const ref = fc?.usageLimitPolicyPluginRef;
  if (!fc || ref === undefined) return { flowControl: fc };
  const spec = picker.plugins.find((p) => (p.name ?? p.type) === ref) ?? { type: ref };
  const policy = plugins.usageLimit(spec);
  if (!policy)
    throw new ConfigError({
      path: "EndpointPickerConfig flowControl.usageLimitPolicyPluginRef",
      expected:
        "the name of a usage-limit policy in plugins (priority-holdback-policy, soft-reflective-ceiling-policy, static-usage-limit-policy)",
      received: JSON.stringify(ref),
    });
  const c = policy.ceilings(fc.priorityBands.map((b) => b.priority));
  return {
    flowControl: {
      ...fc,
      defaultPriorityBand: {
        ...fc.defaultPriorityBand,
        ceiling: fc.defaultPriorityBand.ceiling ?? c.unlisted,
      },
      priorityBands: fc.priorityBands.map((b) => ({
        ...b,
        ceiling: b.ceiling ?? c.byPriority.get(b.priority) ?? c.unlisted,
      })),
    },
    ...(c.note ? { note: c.note } : {}),
    ...(policy.gate ? { gate: policy.gate() } : {}),
  };
}

/**
 * The pool's saturation detector: the one `flowControl.saturationDetector.pluginRef` (llm-d
 * v0.10) or the top-level `saturationDetector.pluginRef` (GIE v1.5) names (a declared
 * detector's name, else a built-in detector type with default parameters); else the
 * detector plugins declared in `plugins` (the max of them); else max(utilization-detector
 * with GIE v1.3's top-level thresholds, concurrency-detector).
 */
export function saturationDetectorOf(
  picker: EndpointPickerConfig | undefined,
  plugins: FlowPlugins,
): SaturationDetector {
  const all = picker?.plugins ?? [];
  const declared = all.filter((p) => DETECTOR_TYPES.has(p.type));
  const top = picker?.saturationDetector;
  const ref =
    picker?.flowControl?.saturationDetector?.pluginRef ??
    (top && "pluginRef" in top ? top.pluginRef : undefined);
  if (ref !== undefined) {
    const named = declared.find((p) => (p.name ?? p.type) === ref);
    if (named) return plugins.detector(named, all);
    const where = picker?.flowControl?.saturationDetector
      ? "flowControl.saturationDetector"
      : "saturationDetector";
    if (!DETECTOR_TYPES.has(ref))
      throw new ConfigError({
        path: `EndpointPickerConfig ${where}.pluginRef`,
        expected: `the name of a saturation detector in plugins or a detector type (${[...DETECTOR_TYPES].join(", ")})`,
        received: JSON.stringify(ref),
      });
    return plugins.detector({ type: ref }, all);
  }
  if (declared.length === 1) return plugins.detector(declared[0]!, all);
  if (declared.length > 1)
    return plugins.detector({ type: "max-saturation-detector", parameters: { detectors: declared } }, all);
  const thresholds = top && !("pluginRef" in top) ? top : undefined;
  if (!thresholds) return plugins.defaultDetector();
  return plugins.detector({
    type: "max-saturation-detector",
    parameters: {
      detectors: [{ type: "utilization-detector", parameters: thresholds }, { type: "concurrency-detector" }],
    },
  });
}

/**
 * Admission for the pool: a flow controller (queues, priority, fairness) when the
 * EndpointPickerConfig has `featureGates: [flowControl]`, else the gate-off admitter
 * (forward everything, shed sheddable requests when saturated).
 */
export function createAdmitter(deps: {
  config: ConfigHolder;
  endpoints: EndpointStore;
  inflight: InFlight;
  /** The assumed-load model the scheduler uses too (one model of each pod's load). */
  loads: LoadTracker;
  clock: Clock;
  /** Timers for queue TTLs (tests pass a fake); the system's when absent. */
  setTimer?: SetTimer;
  /** The flow-control plugins, from the composition root. */
  plugins: FlowPlugins;
  /** Passive health: an ejected endpoint offers no room (the schedule stage skips it too). */
  health?: EjectionView;
  /** Where the start-up lines about fields acted on differently go. */
  logger?: Logger;
  observe?: FlowObserver;
}): { admitter: Admitter; flow: SuccessiveFlowController | undefined; saturation: () => number } {
  const picker = deps.config.current.pickerConfig;
  const gateOn = (c: EndpointPickerConfig | undefined) => c?.featureGates.includes("flowControl") === true;
  const flowPart = (c: EndpointPickerConfig | undefined) =>
    JSON.stringify([
      c?.flowControl,
      c?.saturationDetector,
      c?.plugins.filter((p) => deps.plugins.types.includes(p.type)),
    ]);
  const loads = trackedLoads(deps.loads, deps.inflight, deps.endpoints.columns);
  /** What one flow-control part builds: its detector and, with the gate on, its controller. */
  const build = (c: EndpointPickerConfig | undefined) => {
    const limited = c ? withUsageLimits(c, deps.plugins) : undefined;
    const notes = [...flowControlNotes(c?.flowControl), ...(limited?.note ? [limited.note] : [])];
    const detector = saturationDetectorOf(c, deps.plugins);
    const controller = gateOn(c)
      ? createFlowController({
          clock: deps.clock,
          ...(deps.setTimer ? { setTimer: deps.setTimer } : {}),
          priorityOf: (objective) => priorityOf(deps.config.current, objective),
          saturation: detector,
          endpoints: deps.endpoints,
          // Room only where the schedule stage can send the request (one rule for both: not ejected, fresh).
          usable: (endpoints, now) =>
            usableEndpoints(endpoints, {
              health: deps.health ?? ALL_HEALTHY,
              now,
              stalenessMs: deps.config.current.settings.dataLayer.stalenessMs,
              columns: deps.endpoints.columns,
            }),
          inflight: deps.inflight,
          loads,
          config: limited?.flowControl,
          policies: deps.plugins.policies(c?.plugins ?? []),
          ...(limited?.gate ? { usageGate: limited.gate } : {}),
          ...(deps.observe ? { observe: deps.observe } : {}),
        })
      : undefined;
    return { notes, detector, controller };
  };
  const first = build(picker);
  for (const note of first.notes) deps.logger?.info(`EndpointPickerConfig: ${note}`);
  let detector = first.detector;
  const saturation = poolSaturation({
    // The detector in force, which a reload may replace.
    detector: {
      get type() {
        return detector.type;
      },
      get name() {
        return detector.name;
      },
      score: (endpoint, load, now) => detector.score(endpoint, load, now),
    },
    endpoints: deps.endpoints,
    loads,
    clock: deps.clock,
  });
  const flow = first.controller ? successiveFlowController(first.controller) : undefined;
  const startedOn = gateOn(picker);
  let builtFrom = flowPart(picker);
  // A reload that changes flow control builds it anew: new arrivals go to the new controller,
  // requests queued in the old one are dispatched from it in their order (successor.ts).
  deps.config.onSwap((next) => {
    const c = next.pickerConfig;
    if (gateOn(c) !== startedOn)
      deps.logger?.warn(
        "EndpointPickerConfig: featureGates flowControl changed; switching flow control on or off takes effect at the next restart, its settings and scheduling changes apply now",
      );
    const part = flowPart(c);
    if (part === builtFrom || gateOn(c) !== startedOn) return;
    let built: ReturnType<typeof build>;
    try {
      built = build(c);
    } catch (err) {
      deps.logger?.error(
        "EndpointPickerConfig: the new flow-control part cannot be built; the running one stays",
        {
          error: err instanceof Error ? err.message : String(err),
        },
      );
      return;
    }
    builtFrom = part;
    for (const note of built.notes) deps.logger?.info(`EndpointPickerConfig: ${note}`);
    detector = built.detector;
    if (flow && built.controller) flow.replace(built.controller);
    deps.logger?.info("EndpointPickerConfig: flow control rebuilt from the reloaded config", {
      waitingInPrevious: flow?.stats().queued ?? 0,
    });
  });
  if (!flow) {
    return {
      admitter: gateOffAdmitter({ config: () => deps.config.current, saturation }),
      flow: undefined,
      saturation,
    };
  }
  return { admitter: flow, flow, saturation };
}
