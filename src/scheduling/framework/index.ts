import type { Clock, Random } from "../../clock.ts";
import type { Endpoint } from "../../endpoints/types.ts";
import { PrefixIndex } from "../prefix/prefix-index.ts";
import type { RequestLifecycle, Scheduled, Scheduler, SchedulingRequest } from "../types.ts";
import { createContext } from "./context.ts";
import type {
  InFlightView,
  LifecycleHooks,
  PluginIdentity,
  ProfileResult,
  SchedulerProfile,
  SchedulingContext,
  SchedulingResult,
} from "./interfaces.ts";
import { isPreAdmission } from "./interfaces.ts";
import { LoadTracker } from "./load.ts";
import { loadConfig } from "./load-config.ts";
import type { PluginRegistry } from "./registry.ts";
import { type PluginObserver, runProfile, timed } from "./runner.ts";

export { PrefixIndex, type PrefixIndexStats } from "../prefix/prefix-index.ts";
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
  /** Plugin types available to the config, filled at the composition root (`plugins/index.ts`). */
  registry: PluginRegistry;
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
}

/** The configured scheduler: the stage's narrow `Scheduler`, plus the full decision and the pool state. */
export interface FrameworkScheduler extends Scheduler {
  /** The full outcome: picked endpoints (primary first) with scores, `saturated` or `no-endpoints`. */
  decide(request: SchedulingRequest, candidates: readonly Endpoint[]): SchedulingResult;
  /** The pool's prefix index: `size` and `stats()` for metrics. */
  readonly prefixIndex: PrefixIndex;
  /** Configured profile names, in order. */
  readonly profiles: readonly string[];
  /** One line per configured plugin the gateway honours its own way (what it maps to). */
  readonly notes: readonly string[];
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
  const { clock, inflight, observe, observeDecision, registry } = opts;
  const loaded = loadConfig(opts.config, registry, { random: opts.random, clock, prefixIndex });
  const loads = opts.loads ?? new LoadTracker();
  const preAdmission = [...loaded.plugins.values()].filter(isPreAdmission);

  function run(
    request: SchedulingRequest,
    candidates: readonly Endpoint[],
  ): { result: SchedulingResult; ctx?: SchedulingContext } {
    const t0 = clock.now();
    let decided: SchedulingResult | undefined;
    try {
      if (candidates.length === 0) return { result: { kind: "no-endpoints" } };
      const ctx = createContext({ request, clock, inflight, loads });
      const result = loaded.handler.handle(
        ctx,
        loaded.profiles,
        (profile: SchedulerProfile): ProfileResult => runProfile(ctx, profile, candidates, observe),
      );
      if (result.kind === "picked") {
        for (const hook of loaded.hooks) {
          if (hook.preRequest)
            guarded(() =>
              timed(ctx, observe, "PreRequest", hook, () => hook.preRequest!(ctx, result.endpoints)),
            );
        }
      }
      decided = result;
      return { result, ctx };
    } finally {
      observeDecision?.((clock.now() - t0) / 1000, request, decided);
    }
  }

  return {
    decide: (request, candidates) => run(request, candidates).result,
    schedule(request, candidates): Scheduled {
      const { result, ctx } = run(request, candidates);
      if (result.kind !== "picked") return { endpoints: [] };
      if (ctx === undefined || loaded.hooks.length === 0) return { endpoints: result.endpoints };
      return { endpoints: result.endpoints, lifecycle: lifecycleOf(ctx, loaded.hooks, observe) };
    },
    fairnessIdFor(headers) {
      for (const p of preAdmission) {
        const id = p.preAdmission(headers);
        if (id) return id;
      }
      return undefined;
    },
    prefixIndex,
    profiles: loaded.profiles.map((p) => p.name),
    notes: loaded.notes,
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

/** A hook's throw must not fail the request it observes. */
function guarded(fn: () => void): void {
  try {
    fn();
  } catch {
    // Lifecycle hooks are observers; see interfaces.ts.
  }
}

/**
 * The request's lifecycle: each kind of hook runs at most once; ResponseComplete gets the
 * endpoint that served (undefined when none answered).
 */
function lifecycleOf(
  ctx: SchedulingContext,
  hooks: readonly (PluginIdentity & LifecycleHooks)[],
  observe: PluginObserver | undefined,
): RequestLifecycle {
  let served: Endpoint | undefined;
  let completed = false;
  const streamers = hooks.filter((h) => h.responseStreaming);
  const lifecycle: RequestLifecycle = {
    responseReceived(endpoint, response) {
      if (served) return;
      served = endpoint;
      const answer = { endpoint, status: response.status, headers: response.headers };
      for (const h of hooks)
        if (h.responseReceived)
          guarded(() => timed(ctx, observe, "ResponseReceived", h, () => h.responseReceived!(ctx, answer)));
    },
    responseComplete(outcome) {
      if (completed) return;
      completed = true;
      const endpoint = served;
      for (const h of hooks)
        if (h.responseComplete)
          guarded(() =>
            timed(ctx, observe, "ResponseComplete", h, () => h.responseComplete!(ctx, endpoint, outcome)),
          );
    },
  };
  // Per chunk, so only when some plugin listens: the hot path pays nothing otherwise.
  if (streamers.length > 0)
    lifecycle.responseStreaming = (bytes) => {
      if (!served || completed) return;
      const chunk = { endpoint: served, bytes };
      for (const h of streamers)
        guarded(() => timed(ctx, observe, "ResponseStreaming", h, () => h.responseStreaming!(ctx, chunk)));
    };
  return lifecycle;
}
