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
  ServedResponse,
  StreamedChunk,
} from "./interfaces.ts";
import { isPreAdmission } from "./interfaces.ts";
import { LoadTracker } from "./load.ts";
import { loadConfig } from "./load-config.ts";
import type { PluginRegistry } from "./registry.ts";
import {
  type ExtensionPoint,
  type PluginObserver,
  type ProfileTiming,
  type Recorder,
  runProfile,
  slot,
} from "./runner.ts";

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

  const streams = loaded.hooks.some((h) => h.responseStreaming);
  /** The context of the last `run` that made one (read at once by `schedule`: runs are synchronous). */
  let lastCtx: SchedulingContext | undefined;

  /** The decision being made, for `runOne` (one function for every decision, not one per decision). */
  let currentCtx: SchedulingContext | undefined;
  let currentCandidates: readonly Endpoint[] = [];
  /**
   * The decision's first clock reading for its first timed plugin call (`start`), and the
   * last reading of the profiles it ran (`end`, NaN when none was timed).
   */
  const timing: ProfileTiming = { end: Number.NaN, start: Number.NaN };
  const runOne = (profile: SchedulerProfile): ProfileResult => {
    if (currentCtx === undefined) throw new Error("scheduler: a profile was run outside a decision");
    return runProfile(currentCtx, profile, currentCandidates, observe, timing);
  };

  /**
   * Set by `run` when it left a picked decision's PreRequest hooks and metrics to the caller
   * (`deferred`): the decision's first clock reading and the one that ended its profiles.
   */
  let heldT0 = 0;
  let heldMid = 0;

  function run(
    request: SchedulingRequest,
    candidates: readonly Endpoint[],
    deferred = false,
  ): SchedulingResult {
    let t0 = Number.NaN;
    let end: number | undefined;
    let decided: SchedulingResult | undefined;
    let held = false;
    lastCtx = undefined;
    try {
      if (candidates.length === 0) {
        t0 = clock.now();
        return { kind: "no-endpoints" };
      }
      const ctx = createContext({ request, clock, inflight, loads });
      lastCtx = ctx;
      // Saved and restored: a plugin that decides inside a decision gets its own.
      const outerCtx = currentCtx;
      const outerCandidates = currentCandidates;
      currentCtx = ctx;
      currentCandidates = candidates;
      // The decision's first reading, once its context is made, also starts the first
      // plugin call's window (issue 19, twelfth pass: one reading a decision fewer); none
      // when nothing observes it.
      t0 = observe === undefined && observeDecision === undefined ? Number.NaN : clock.now();
      timing.start = t0;
      timing.end = Number.NaN;
      let result: SchedulingResult;
      try {
        result = loaded.handler.handle(ctx, loaded.profiles, runOne);
      } finally {
        currentCtx = outerCtx;
        currentCandidates = outerCandidates;
        ctx.endDecision();
      }
      decided = result;
      if (result.kind === "picked") {
        if (deferred && loaded.hooks.length > 0) {
          // The hooks and the decision's metrics wait for the pod call (Lifecycle.requestSent).
          held = true;
          heldT0 = t0;
          // The profiles' last reading ends them (nothing but the result's return ran since):
          // one reading a held decision less (tenth pass).
          const last = timing.end;
          heldMid = observeDecision === undefined ? 0 : Number.isNaN(last) ? clock.now() : last;
          return result;
        }
        // With an observer the hooks' last clock reading ends the decision too (nothing of ours
        // runs between them): one reading a decision less.
        end = hooks.preRequest(ctx, result.endpoints);
      }
      return result;
    } finally {
      if (!held && observeDecision !== undefined) {
        // NaN only if making the context threw: then the decision is timed from here.
        const stop = end ?? clock.now();
        observeDecision((stop - (Number.isNaN(t0) ? stop : t0)) / 1000, request, decided);
      }
    }
  }

  /**
   * A deferred decision's PreRequest hooks, then its duration and attempt metrics, as `run`
   * would have recorded them: the profiles' time plus the hooks' (not the pod call's between).
   */
  const sent: Sent = (ctx, t0, mid, request, result) => {
    if (observeDecision === undefined) {
      hooks.preRequest(ctx, result.endpoints);
      return;
    }
    const s = clock.now();
    const end = hooks.preRequest(ctx, result.endpoints, undefined, s) ?? clock.now();
    observeDecision((mid - t0 + (end - s)) / 1000, request, result);
  };

  return {
    decide: (request, candidates) => run(request, candidates),
    schedule(request, candidates, deferred): Scheduled {
      const result = run(request, candidates, deferred);
      const ctx = lastCtx;
      lastCtx = undefined;
      if (result.kind !== "picked") return { endpoints: [] };
      if (ctx === undefined || loaded.hooks.length === 0) return { endpoints: result.endpoints };
      const lifecycle = new Lifecycle(ctx, hooks, streams);
      if (deferred) lifecycle.hold(sent, heldT0, heldMid, request, result);
      return { endpoints: result.endpoints, lifecycle };
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

/**
 * Runs every hook of one kind in config order (see `hookRunners`) with the call's arguments;
 * returns its last clock reading when timed (undefined when not).
 */
type HookRun = (ctx: SchedulingContext, a: unknown, b?: unknown, start?: number) => number | undefined;

type Picked = Extract<SchedulingResult, { kind: "picked" }>;

/**
 * A held decision's PreRequest hooks, then its metrics (`t0`: the decision's first clock
 * reading, `mid`: the one that ended its profiles; see `run`).
 */
type Sent = (
  ctx: SchedulingContext,
  t0: number,
  mid: number,
  request: SchedulingRequest,
  result: Picked,
) => void;

type Hook = PluginIdentity & LifecycleHooks;
type HookKind = "preRequest" | "responseReceived" | "responseStreaming" | "responseComplete";

/** One call of each kind of hook, made once: a run allocates no closure per hook. */
const CALLS: Record<HookKind, (h: Hook, ctx: SchedulingContext, a: unknown, b: unknown) => void> = {
  preRequest: (h, ctx, a) => h.preRequest?.(ctx, a as readonly Endpoint[]),
  responseReceived: (h, ctx, a) => h.responseReceived?.(ctx, a as ServedResponse),
  responseStreaming: (h, ctx, a) => h.responseStreaming?.(ctx, a as StreamedChunk),
  responseComplete: (h, ctx, a, b) => h.responseComplete?.(ctx, a as Endpoint | undefined, b as string),
};

/**
 * One runner per kind of lifecycle hook: calls each hook that has it, a throw caught per
 * hook (hooks are observers; see interfaces.ts); with an observer, each call is timed
 * under its extension point by chained clock readings (one per call, plus one before the
 * first), through recorders resolved once per hook.
 */
function hookRunners(
  hooks: readonly Hook[],
  observe: PluginObserver | undefined,
  clock: Clock,
): Record<HookKind, HookRun> {
  const runner = (kind: HookKind, point: ExtensionPoint): HookRun => {
    const having = hooks.filter((h) => h[kind] !== undefined);
    const call = CALLS[kind];
    if (observe === undefined)
      return (ctx, a, b) => {
        for (let i = 0; i < having.length; i++) {
          try {
            call(having[i]!, ctx, a, b);
          } catch {
            // A hook's throw must not fail the request it observes.
          }
        }
        return undefined;
      };
    // Resolved at each hook's first call, so series appear in the order of first use.
    const recorders = new Array<Recorder | undefined>(having.length);
    return (ctx, a, b, start) => {
      let t = start ?? clock.now();
      for (let i = 0; i < having.length; i++) {
        const h = having[i]!;
        try {
          call(h, ctx, a, b);
        } catch {
          // As above.
        }
        const t1 = clock.now();
        slot(recorders, i, observe, point, h)((t1 - t) / 1000);
        t = t1;
      }
      return t;
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
 * endpoint that served (undefined when none answered). A class, so a request makes one
 * object here rather than an object, its closures and their scope (issue 19, fifth pass).
 */
class Lifecycle implements RequestLifecycle {
  private served: Endpoint | undefined = undefined;
  private completed = false;
  /** Set while a held decision waits for `requestSent` (one shape for every lifecycle). */
  private sent: Sent | undefined = undefined;
  private t0 = 0;
  private mid = 0;
  private request: SchedulingRequest | undefined = undefined;
  private picked: Picked | undefined = undefined;
  /** Per chunk, so only when some plugin listens: the hot path pays nothing otherwise. */
  readonly responseStreaming?: (bytes: Uint8Array) => void;

  constructor(
    private readonly ctx: SchedulingContext,
    private readonly run: Record<HookKind, HookRun>,
    streams: boolean,
  ) {
    // Taken detached by the stream's tap (forward.ts), so a bound function.
    if (streams)
      this.responseStreaming = (bytes) => {
        if (!this.served || this.completed) return;
        this.run.responseStreaming(this.ctx, { endpoint: this.served, bytes });
      };
  }

  /** The pod call was made: a deferred decision's PreRequest hooks and metrics, once. */
  requestSent(): void {
    const sent = this.sent;
    if (sent === undefined) return;
    this.sent = undefined;
    sent(this.ctx, this.t0, this.mid, this.request!, this.picked!);
    this.request = undefined;
    this.picked = undefined;
  }

  /** Leaves the decision's PreRequest hooks and metrics to `requestSent` (see `Scheduler.schedule`). */
  hold(sent: Sent, t0: number, mid: number, request: SchedulingRequest, picked: Picked): void {
    this.sent = sent;
    this.t0 = t0;
    this.mid = mid;
    this.request = request;
    this.picked = picked;
  }

  responseReceived(endpoint: Endpoint, response: { status: number; headers: Headers }): void {
    if (this.sent !== undefined) this.requestSent();
    if (this.served) return;
    this.served = endpoint;
    this.run.responseReceived(this.ctx, { endpoint, status: response.status, headers: response.headers });
  }

  responseComplete(outcome: string): void {
    if (this.sent !== undefined) this.requestSent();
    if (this.completed) return;
    this.completed = true;
    this.run.responseComplete(this.ctx, this.served, outcome);
  }

  /** The request scope's end (the schedule stage holds the lifecycle itself): ResponseComplete. */
  release(outcome: string): void {
    this.responseComplete(outcome);
  }
}
