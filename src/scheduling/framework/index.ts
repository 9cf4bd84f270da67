import type { Clock, Random } from "../../clock.ts";
import type { Endpoint } from "../../endpoints/types.ts";
import { PrefixIndex } from "../prefix/prefix-index.ts";
import type { Scheduler, SchedulingRequest } from "../types.ts";
import { createDefaultRegistry } from "./builtins.ts";
import { createContext } from "./context.ts";
import type { InFlightView, ProfileResult, SchedulerProfile, SchedulingResult } from "./interfaces.ts";
import { LoadTracker } from "./load.ts";
import { loadConfig } from "./load-config.ts";
import type { PluginRegistry } from "./registry.ts";
import { type PluginObserver, runProfile, timed } from "./runner.ts";

export { PrefixIndex, type PrefixIndexStats } from "../prefix/prefix-index.ts";
export { createDefaultRegistry } from "./builtins.ts";
export * from "./interfaces.ts";
export { LoadTracker } from "./load.ts";
export { DEFAULT_ENDPOINT_PICKER_CONFIG } from "./load-config.ts";
export {
  type PluginDefinition,
  type PluginDeps,
  type PluginFactory,
  PluginRegistry,
  withParameters,
} from "./registry.ts";
export type { PluginObserver } from "./runner.ts";

export interface SchedulerOptions {
  /** An EndpointPickerConfig document (either apiVersion); absent = GIE's default profile. Validated here. */
  config?: unknown;
  /** Plugin types available to the config; default: every built-in. */
  registry?: PluginRegistry;
  /** The gateway's in-flight counts (`InFlight`), for the assumed load. */
  inflight: InFlightView;
  random: Random;
  clock: Clock;
  /** Called with each plugin call's duration (type, name, seconds). */
  observe?: PluginObserver;
  /**
   * Called with each decision's duration in seconds (`scheduler_e2e_duration_seconds`), the
   * request and its result (`scheduler_attempts_total`; undefined when nothing was decided).
   */
  observeDecision?: (
    seconds: number,
    request: SchedulingRequest,
    result: SchedulingResult | undefined,
  ) => void;
  /** The gateway's assumed-load model, shared with flow control; a private one when absent. */
  loads?: LoadTracker;
  /** The prefix index to use; pass the previous scheduler's on a config reload to keep it. */
  prefixIndex?: PrefixIndex;
  /**
   * Plugin types in the same `plugins:` list that other subsystems own (flow-control
   * policies, saturation detectors); scheduling skips them. Other unknown types are errors.
   */
  foreignPluginTypes?: Iterable<string>;
}

/** The configured scheduler: the stage's narrow `Scheduler`, plus the full decision and the pool state. */
export interface FrameworkScheduler extends Scheduler {
  /** The full outcome: picked endpoints (primary first) with scores, `saturated` or `no-endpoints`. */
  decide(request: SchedulingRequest, candidates: readonly Endpoint[]): SchedulingResult;
  /** The pool's prefix index: `size` and `stats()` for metrics. */
  readonly prefixIndex: PrefixIndex;
  /** Configured profile names, in order. */
  readonly profiles: readonly string[];
  /** Forgets an endpoint that left the pool (prefix entries and load baseline). */
  removeEndpoint(name: string): void;
  /** Forgets every endpoint not in `names`. */
  retainEndpoints(names: Iterable<string>): void;
}

/**
 * Builds a scheduler from an EndpointPickerConfig. Throws ConfigError for unknown plugin
 * types, bad parameters and bad references. `schedule()` returns the picked endpoints
 * or [] (no candidates or all filtered out); `decide()` tells those apart.
 */
export function createScheduler(opts: SchedulerOptions): FrameworkScheduler {
  const prefixIndex = opts.prefixIndex ?? new PrefixIndex();
  const registry = opts.registry ?? createDefaultRegistry();
  const { clock, inflight, observe, observeDecision } = opts;
  const foreign = new Set(opts.foreignPluginTypes ?? []);
  const loaded = loadConfig(opts.config, registry, { random: opts.random, clock, prefixIndex }, foreign);
  const loads = opts.loads ?? new LoadTracker();

  function decide(request: SchedulingRequest, candidates: readonly Endpoint[]): SchedulingResult {
    const t0 = clock.now();
    let decided: SchedulingResult | undefined;
    try {
      if (candidates.length === 0) return { kind: "no-endpoints" };
      const ctx = createContext({ request, clock, inflight, loads });
      const ran: [SchedulerProfile, ProfileResult][] = [];
      const result = loaded.handler.handle(ctx, loaded.profiles, (profile) => {
        const r = runProfile(ctx, profile, candidates, observe);
        ran.push([profile, r]);
        return r;
      });
      if (result.kind === "picked") {
        for (const [profile, r] of ran) {
          if (r.kind !== "picked") continue;
          for (const hook of profile.postPicks)
            timed(ctx, observe, "PreRequest", hook, () => hook.onPicked(ctx, r.endpoints));
        }
      }
      decided = result;
      return result;
    } finally {
      observeDecision?.((clock.now() - t0) / 1000, request, decided);
    }
  }

  return {
    decide,
    schedule(request, candidates) {
      const r = decide(request, candidates);
      return r.kind === "picked" ? r.endpoints : [];
    },
    prefixIndex,
    profiles: loaded.profiles.map((p) => p.name),
    removeEndpoint(name) {
      prefixIndex.removeEndpoint(name);
      loads.forget(name);
    },
    retainEndpoints(names) {
      const keep = [...names];
      prefixIndex.retain(keep);
      loads.retain(keep);
    },
  };
}
