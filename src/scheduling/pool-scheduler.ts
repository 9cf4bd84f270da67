import {
  FAIRNESS_POLICY_FACTORIES,
  ORDERING_POLICY_FACTORIES,
  SATURATION_DETECTOR_FACTORIES,
} from "../../plugins/flow/index.ts";
import { sessionHeaderName, sessionTokenHeader } from "../../plugins/session-affinity-scorer.ts";
import type { Clock, Random } from "../clock.ts";
import type { ConfigHolder } from "../config/holder.ts";
import type { EndpointPickerConfig } from "../config/resources.ts";
import type { InFlight } from "../endpoints/inflight.ts";
import type { EndpointStore } from "../endpoints/store.ts";
import type { Endpoint } from "../endpoints/types.ts";
import {
  createScheduler,
  type FrameworkScheduler,
  type LoadTracker,
  type PluginObserver,
} from "./framework/index.ts";
import type { Scheduler, SchedulingRequest } from "./types.ts";

/** Plugin types in an EndpointPickerConfig that flow control owns; scheduling skips them. */
export const FLOW_PLUGIN_TYPES: readonly string[] = [
  ...FAIRNESS_POLICY_FACTORIES.map((f) => f.type),
  ...ORDERING_POLICY_FACTORIES.map((f) => f.type),
  ...SATURATION_DETECTOR_FACTORIES.map((f) => f.type),
  "max-saturation-detector",
];

/**
 * The config the scheduler is built from: an EndpointPickerConfig that declares no
 * scheduling plugin and no profile (only flow-control parts) gets the default profile.
 */
function schedulingPart(config: EndpointPickerConfig | undefined): EndpointPickerConfig | undefined {
  if (!config || config.schedulingProfiles.length > 0) return config;
  return config.plugins.some((p) => !FLOW_PLUGIN_TYPES.includes(p.type)) ? config : undefined;
}

/**
 * Checks an EndpointPickerConfig's scheduling part the way the gateway will build it,
 * so a bad plugin type or parameter stops start-up (or a reload) with a ConfigError.
 */
export function validatePickerConfig(config: EndpointPickerConfig | undefined): void {
  createScheduler({
    config: schedulingPart(config),
    inflight: { get: () => 0 },
    random: Math.random,
    clock: { now: () => 0 },
    foreignPluginTypes: FLOW_PLUGIN_TYPES,
  });
}

/**
 * The pool's scheduler, rebuilt when a reload changes the EndpointPickerConfig (the
 * prefix index carries over, so cache affinity survives), and told when endpoints
 * leave so their prefix entries are freed.
 */
export class PoolScheduler implements Scheduler {
  private current: FrameworkScheduler;
  private builtFrom: EndpointPickerConfig | undefined;

  constructor(
    private readonly deps: {
      config: ConfigHolder;
      endpoints: EndpointStore;
      inflight: InFlight;
      /** The gateway's assumed-load model, shared with flow control. */
      loads?: LoadTracker;
      random: Random;
      clock: Clock;
      observe?: PluginObserver;
      observeDecision?: (seconds: number) => void;
    },
  ) {
    this.builtFrom = deps.config.current.pickerConfig;
    this.current = this.build(this.builtFrom);
    deps.config.onSwap((next) => {
      if (next.pickerConfig === this.builtFrom) return;
      this.builtFrom = next.pickerConfig;
      this.current = this.build(next.pickerConfig);
    });
    deps.endpoints.onChange(() => this.current.retainEndpoints(deps.endpoints.list().map((e) => e.name)));
  }

  /**
   * The header the proxy sets on answers so a session's next request can return to the
   * same endpoint: only when the config scores session affinity, named as its scorer's
   * `headerName` (the header the scorer reads).
   */
  sessionHeader(endpoint: Endpoint): [string, string] | undefined {
    const name = sessionHeaderName(this.builtFrom);
    return name ? sessionTokenHeader(endpoint, name) : undefined;
  }

  get prefixIndex() {
    return this.current.prefixIndex;
  }

  schedule(request: SchedulingRequest, candidates: readonly Endpoint[]): readonly Endpoint[] {
    return this.current.schedule(request, candidates);
  }

  private build(config: EndpointPickerConfig | undefined): FrameworkScheduler {
    const { inflight, loads, random, clock, observe, observeDecision } = this.deps;
    return createScheduler({
      config: schedulingPart(config),
      inflight,
      ...(loads ? { loads } : {}),
      random,
      clock,
      foreignPluginTypes: FLOW_PLUGIN_TYPES,
      ...(this.current ? { prefixIndex: this.current.prefixIndex } : {}),
      ...(observe ? { observe } : {}),
      ...(observeDecision ? { observeDecision } : {}),
    });
  }
}
