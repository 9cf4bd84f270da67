import type { Clock } from "../../clock.ts";
import type { Endpoint } from "../../endpoints/types.ts";
import type { PrefixHashes } from "../prefix/hashes.ts";
import type { SchedulingRequest } from "../types.ts";

/**
 * The scheduling plugin contracts (after GIE's framework/interface). Each plugin has a
 * `{type, name}` identity and one method; implementations live in `plugins/`. The
 * framework (runner.ts), not the plugins, clamps scores, applies weights, times calls
 * and handles empty candidate sets.
 */

/** `type` is what users write in YAML (`queue-scorer`); `name` is the instance's name (defaults to the type). */
export interface PluginIdentity {
  readonly type: string;
  readonly name: string;
}

/** The gateway's own in-flight count per endpoint (see `InFlight`); the narrow view scheduling needs. */
export interface InFlightView {
  get(name: string): number;
}

/** An endpoint's load as the scheduler believes it is now (see load.ts for the formula). */
export interface EffectiveLoad {
  /** Scraped waiting queue plus the assumed load. */
  readonly waiting: number;
  /** Scraped running requests plus the assumed load. */
  readonly running: number;
  /** Requests this gateway sent that the last scrape cannot know yet (may be < 0 after completions). */
  readonly assumed: number;
  /** Scraped KV-cache usage (0..1) plus the assumed requests at the KV each running one held. */
  readonly kvUsage: number;
  /** The gateway's own in-flight count on the endpoint (exact, live). */
  readonly inflight: number;
}

/**
 * Every candidate's `EffectiveLoad`, one column per field, indexed like the endpoints
 * array it was asked for: one pass and five typed arrays per decision instead of a
 * memoized object per endpoint. Read only (shared by the plugins of the decision).
 */
export interface LoadColumns {
  readonly waiting: Float64Array;
  readonly running: Float64Array;
  readonly assumed: Float64Array;
  readonly kvUsage: Float64Array;
  readonly inflight: Float64Array;
}

/** A typed slot of per-request state, e.g. what a scorer computed for its PostPick hook. */
export interface StateKey<T> {
  readonly name: string;
  /** Phantom field carrying `T`; never set. */
  readonly __type?: T;
}

export function stateKey<T>(name: string): StateKey<T> {
  return { name };
}

/**
 * Set by the prefix-cache scorers: true when no candidate holds the prompt's distinctive
 * block (the first block most recent prompts do not share: src/scheduling/prefix/distinctive.ts),
 * i.e. a prefix new to this gateway beyond a common preamble. Pickers may then break ties
 * more widely and deterministically, so replicas that never saw the prefix agree.
 */
export const NEW_PREFIX = stateKey<boolean>("new-prefix");

/**
 * Everything a plugin may read about one request, built once per scheduling decision
 * and shared by all plugins. Lazy values are computed at most once per request.
 */
export interface SchedulingContext {
  readonly request: SchedulingRequest;
  /** The model the pod will be asked for (after rewrite); seeds the prefix hashes. */
  readonly targetModel: string;
  readonly clock: Clock;
  readonly inflight: InFlightView;
  /** The endpoint's load including what this gateway sent since the last scrape. */
  load(endpoint: Endpoint): EffectiveLoad;
  /**
   * `load` of each of `endpoints` as columns (computed once per endpoints array). Inside a
   * decision (filters, scorers, picker) the columns are the load tracker's scratch, written
   * again by the next decision: read them in the call that asked, do not keep them. Asked
   * for after the decision (a PreRequest or response hook), they are the caller's own.
   */
  loads(endpoints: readonly Endpoint[]): LoadColumns;
  /** The serialized prompt (see prefix/prompt.ts), computed on first use. */
  promptText(): string;
  /** `promptText().length`, without building the text when it was not needed otherwise. */
  promptLength(): number;
  /**
   * Chained block hashes of the prompt, computed on first use and memoized per block
   * size; asking again for the same or fewer blocks reuses the work.
   */
  prefixHashes(blockChars: number, maxBlocks: number): PrefixHashes;
  /** Per-request plugin state; one mechanism for all plugins (a key per plugin instance). */
  get<T>(key: StateKey<T>): T | undefined;
  set<T>(key: StateKey<T>, value: T): void;
}

/** Keeps the endpoints that may serve the request, in input order. May return an empty list. */
export interface Filter extends PluginIdentity {
  filter(ctx: SchedulingContext, endpoints: readonly Endpoint[]): readonly Endpoint[];
}

/**
 * Raw scores for `endpoints`, either a Map keyed by endpoint or an array aligned with the
 * input. Higher is better; the intended range is [0, 1]. The framework clamps each score
 * to [0, 1] (so 5 counts as 1 and -1 as 0); a missing entry, `undefined` or NaN counts
 * as 0. Scorers never see an empty list.
 */
export type ScoreResult = ReadonlyMap<Endpoint, number> | ArrayLike<number | undefined>;

export interface Scorer extends PluginIdentity {
  /**
   * The runner adds the result into the decision's totals as soon as the call returns, before
   * any other plugin call, and keeps nothing of it: a scorer may hand back the same array on
   * every call, overwritten by the next (the queue and prefix-cache scorers do, when the
   * candidate count is the same: no typed array a decision; issue 19, twelfth pass). A caller
   * other than the runner that keeps a result past the scorer's next call copies it.
   */
  score(ctx: SchedulingContext, endpoints: readonly Endpoint[]): ScoreResult;
}

/** An endpoint with its weighted total: sum over scorers of clamp01(score) * weight. */
export interface ScoredEndpoint {
  readonly endpoint: Endpoint;
  readonly score: number;
}

/**
 * Chooses the endpoints to use, best first: the primary, then fallbacks; at most its
 * `maxNumOfEndpoints`. Given at least one endpoint it returns at least one (an empty
 * answer is treated as "saturated").
 */
export interface Picker extends PluginIdentity {
  pick(ctx: SchedulingContext, scored: readonly ScoredEndpoint[]): readonly Endpoint[];
}

/**
 * Request-lifecycle hooks (llm-d's request-control plugins). They run once per request,
 * outside the profiles, for every configured plugin that has them; none may throw or
 * change the decision (a throw is caught and ignored by the framework).
 */
/** After the decision, before the request is sent: the scheduled endpoints, primary first. */
export interface PreRequest {
  preRequest(ctx: SchedulingContext, endpoints: readonly Endpoint[]): void;
}

/** What `forward` tells the hooks about the answer: the endpoint that actually served it. */
export interface ServedResponse {
  /** The endpoint whose answer the client gets (a fallback when the primary failed). */
  readonly endpoint: Endpoint;
  readonly status: number;
  /** The headers the client will receive; a hook may add to them (session affinity). */
  readonly headers: Headers;
}

/** The serving endpoint's response headers arrived (once, for the attempt that answered). */
export interface ResponseReceived {
  responseReceived(ctx: SchedulingContext, response: ServedResponse): void;
}

/**
 * The request ended, answered or not: `endpoint` served it (undefined when no endpoint
 * answered), `outcome` is the request scope's (success, error, client-gone, ...). Runs
 * exactly once for every request a decision picked endpoints for, so state a plugin
 * took in PreRequest (e.g. tokens in flight) is always given back.
 */
export interface ResponseComplete {
  responseComplete(ctx: SchedulingContext, endpoint: Endpoint | undefined, outcome: string): void;
}

/** One chunk of a streamed answer, as the client receives it. */
export interface StreamedChunk {
  /** The endpoint whose answer is streamed (the one ResponseReceived named). */
  readonly endpoint: Endpoint;
  /** The bytes of this chunk (SSE text); read them, do not keep or change them. */
  readonly bytes: Uint8Array;
}

/**
 * A streamed (SSE) answer sent a chunk to the client (upstream's ResponseStreaming):
 * called once per chunk, after ResponseReceived and before ResponseComplete. The
 * gateway pays for it only when some configured plugin implements it.
 */
export interface ResponseStreaming {
  responseStreaming(ctx: SchedulingContext, chunk: StreamedChunk): void;
}

/** The hooks one configured plugin may implement. */
export type LifecycleHooks = Partial<PreRequest & ResponseReceived & ResponseStreaming & ResponseComplete>;

/** One configured scheduling profile: filters in order, weighted scorers, one picker. */
export interface SchedulerProfile {
  readonly name: string;
  readonly filters: readonly Filter[];
  readonly scorers: readonly { readonly scorer: Scorer; readonly weight: number }[];
  readonly picker: Picker;
}

/** The outcome of one profile (and, through the profile handler, of a decision). */
export type ProfileResult =
  | {
      readonly kind: "picked";
      readonly profile: string;
      /** Primary first, then fallbacks. */
      readonly endpoints: readonly Endpoint[];
      /** Every endpoint that passed the filters, with its total, in filter order. */
      readonly scored: readonly ScoredEndpoint[];
    }
  /** The filters removed every candidate: the stage answers 429 `rejected-saturated`. */
  | { readonly kind: "saturated"; readonly profile: string }
  /** There was no candidate at all: the stage answers 503 `rejected-no-endpoints`. */
  | { readonly kind: "no-endpoints" };

export type SchedulingResult = ProfileResult;

/**
 * Decides which profiles run and what the decision is. `run` executes one profile on
 * the request's candidates (filters, scorers, picker) and may be called for several
 * profiles, in any order (e.g. prefill then decode).
 */
export interface ProfileHandler extends PluginIdentity {
  /** Largest number of profiles this handler can drive (the loader enforces it). */
  readonly maxProfiles?: number;
  /** `run` runs one profile on this request; call it only before `handle` returns. */
  handle(
    ctx: SchedulingContext,
    profiles: readonly SchedulerProfile[],
    run: (profile: SchedulerProfile) => ProfileResult,
  ): SchedulingResult;
}

/**
 * PreAdmission (upstream's PreAdmissionProcessor): runs on the request's headers after
 * parsing and before admission, when the client sent no fairness id, so a plugin can
 * derive one (agent-identity: an agent's own session header). The first plugin, in
 * config order, that returns an id sets it; undefined leaves the request to the next
 * one, then to `default-flow`.
 */
export interface PreAdmission extends PluginIdentity {
  preAdmission(headers: Headers): string | undefined;
}

export function isPreAdmission(p: SchedulingPlugin): p is PreAdmission {
  return typeof p.preAdmission === "function";
}

/** Anything a registry factory may build. */
export type SchedulingPlugin = PluginIdentity & {
  /**
   * For a plugin the gateway honours differently (a data source it has built in, a
   * parser): what it maps to here, logged once at start-up.
   */
  readonly note?: string;
} & Partial<Pick<Filter, "filter"> & Pick<Scorer, "score"> & Pick<Picker, "pick">> &
  LifecycleHooks &
  Partial<Pick<ProfileHandler, "handle" | "maxProfiles"> & Pick<PreAdmission, "preAdmission">>;

export function isFilter(p: SchedulingPlugin): p is Filter {
  return typeof p.filter === "function";
}

export function isScorer(p: SchedulingPlugin): p is Scorer {
  return typeof p.score === "function";
}

export function isPicker(p: SchedulingPlugin): p is Picker {
  return typeof p.pick === "function";
}

/** True when the plugin implements any request-lifecycle hook. */
export function hasLifecycleHooks(p: SchedulingPlugin): boolean {
  return (
    typeof p.preRequest === "function" ||
    typeof p.responseReceived === "function" ||
    typeof p.responseStreaming === "function" ||
    typeof p.responseComplete === "function"
  );
}

export function isProfileHandler(p: SchedulingPlugin): p is ProfileHandler {
  return typeof p.handle === "function";
}
