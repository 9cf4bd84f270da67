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
import { type ExtensionPoint, type PluginObserver, type Recorder, runProfile, slot } from "./runner.ts";

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
  const hooks = hookRunners(loaded.hooks, observe, clock);

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
      if (result.kind === "picked") hooks.preRequest((h) => h.preRequest?.(ctx, result.endpoints));
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
      return { endpoints: result.endpoints, lifecycle: lifecycleOf(ctx, loaded.hooks, hooks) };
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

/** Runs every hook of one kind in config order (see `hookRunners`). */
type HookRun = (call: (hook: PluginIdentity & LifecycleHooks) => void) => void;

/**
 * One runner per kind of lifecycle hook: calls `call` on each hook that has it, a throw
 * caught per hook; with an observer, each call is timed under its extension point by
 * chained clock readings (one per call, plus one before the first), through recorders
 * resolved once per hook.
 */
function hookRunners(
  hooks: readonly (PluginIdentity & LifecycleHooks)[],
  observe: PluginObserver | undefined,
  clock: Clock,
): Record<"preRequest" | "responseReceived" | "responseStreaming" | "responseComplete", HookRun> {
  const runner = (kind: keyof LifecycleHooks, point: ExtensionPoint): HookRun => {
    const having = hooks.filter((h) => h[kind] !== undefined);
    if (observe === undefined)
      return (call) => {
        for (const h of having) guarded(() => call(h));
      };
    // Resolved at each hook's first call, so series appear in the order of first use.
    const recorders = new Array<Recorder | undefined>(having.length);
    return (call) => {
      let t = clock.now();
      for (let i = 0; i < having.length; i++) {
        const h = having[i]!;
        guarded(() => call(h));
        const t1 = clock.now();
        slot(recorders, i, observe, point, h)((t1 - t) / 1000);
        t = t1;
      }
    };
  };
  return {
    preRequest: runner("preRequest", "PreRequest"),
    responseReceived: runner("responseReceived", "ResponseReceived"),
    responseStreaming: runner("responseStreaming", "ResponseStreaming"),
    responseComplete: runner("responseComplete", "ResponseComplete"),
  };
}

/**
 * The request's lifecycle: each kind of hook runs at most once; ResponseComplete gets the
 * endpoint that served (undefined when none answered).
 */
function lifecycleOf(
  ctx: SchedulingContext,
  hooks: readonly (PluginIdentity & LifecycleHooks)[],
  run: ReturnType<typeof hookRunners>,
): RequestLifecycle {
  let served: Endpoint | undefined;
  let completed = false;
  const lifecycle: RequestLifecycle = {
    responseReceived(endpoint, response) {
      if (served) return;
      served = endpoint;
      const answer = { endpoint, status: response.status, headers: response.headers };
      run.responseReceived((h) => h.responseReceived?.(ctx, answer));
    },
    responseComplete(outcome) {
      if (completed) return;
      completed = true;
      const endpoint = served;
      run.responseComplete((h) => h.responseComplete?.(ctx, endpoint, outcome));
    },
  };
  // Per chunk, so only when some plugin listens: the hot path pays nothing otherwise.
  if (hooks.some((h) => h.responseStreaming))
    lifecycle.responseStreaming = (bytes) => {
      if (!served || completed) return;
      const chunk = { endpoint: served, bytes };
      run.responseStreaming((h) => h.responseStreaming?.(ctx, chunk));
    };
  return lifecycle;
}
