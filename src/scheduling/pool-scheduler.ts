import type { Clock, Random } from "../clock.ts";
import type { ConfigHolder } from "../config/holder.ts";
import type { EndpointPickerConfig } from "../config/resources.ts";
import type { InFlight } from "../endpoints/inflight.ts";
import type { EndpointStore } from "../endpoints/store.ts";
import type { Endpoint } from "../endpoints/types.ts";
import type { Logger } from "../log.ts";
import {
  createScheduler,
  type FrameworkScheduler,
  type LoadTracker,
  type PluginObserver,
} from "./framework/index.ts";
import type { PluginRegistry } from "./framework/registry.ts";
import type { Scheduled, Scheduler, SchedulingRequest } from "./types.ts";

/**
 * The config the scheduler is built from: an EndpointPickerConfig that declares no
 * scheduling plugin and no profile (only flow-control parts) gets the default profile.
 */
export function schedulingPart(
  config: EndpointPickerConfig | undefined,
  registry: PluginRegistry,
): EndpointPickerConfig | undefined {
  if (!config || config.schedulingProfiles.length > 0) return config;
  const foreign = registry.foreign();
  return config.plugins.some((p) => !foreign.has(p.type)) ? config : undefined;
}

/** What the envelope's sections the gateway does itself map to (one line each). */
const SECTION_NOTES: Readonly<Record<string, string>> = {
  dataLayer: "dataLayer: built in: the gateway scrapes pods itself (GatewayConfig dataLayer and engines)",
  parser: "parser: built in: the gateway parses OpenAI requests itself",
  requestHandler: "requestHandler: built in: the gateway parses OpenAI requests itself",
};

function sectionNotes(config: EndpointPickerConfig | undefined): string[] {
  if (!config) return [];
  const fields = config as Record<string, unknown>;
  return Object.entries(SECTION_NOTES).flatMap(([k, note]) => (fields[k] !== undefined ? [note] : []));
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
      /** The plugin types configs may name, filled at the composition root. */
      registry: PluginRegistry;
      endpoints: EndpointStore;
      inflight: InFlight;
      /** The gateway's assumed-load model, shared with flow control. */
      loads?: LoadTracker;
      random: Random;
      clock: Clock;
      observe?: PluginObserver;
      observeDecision?: (seconds: number) => void;
      /** Where the start-up lines about plugins honoured differently go. */
      logger?: Logger;
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

  get prefixIndex() {
    return this.current.prefixIndex;
  }

  schedule(request: SchedulingRequest, candidates: readonly Endpoint[], deferred?: boolean): Scheduled {
    return this.current.schedule(request, candidates, deferred);
  }

  /** The fairness id the current config's PreAdmission plugins derive (see Scheduler). */
  fairnessIdFor(headers: Headers): string | undefined {
    return this.current.fairnessIdFor?.(headers);
  }

  private build(config: EndpointPickerConfig | undefined): FrameworkScheduler {
    const built = this.create(config);
    for (const note of [...sectionNotes(config), ...built.notes])
      this.deps.logger?.info(`EndpointPickerConfig: ${note}`);
    return built;
  }

  private create(config: EndpointPickerConfig | undefined): FrameworkScheduler {
    const { inflight, loads, random, clock, observe, observeDecision, registry } = this.deps;
    return createScheduler({
      config: schedulingPart(config, registry),
      registry,
      inflight,
      ...(loads ? { loads } : {}),
      random,
      clock,
      ...(this.current ? { prefixIndex: this.current.prefixIndex } : {}),
      ...(observe ? { observe } : {}),
      ...(observeDecision ? { observeDecision } : {}),
    });
  }
}
