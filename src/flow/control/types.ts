/**
 * Flow-control plugin interfaces. Implementations live in `plugins/flow/`; the
 * controller (`controller.ts`) enforces the invariants (stable tie-breaks, strict
 * priority, limits, exactly-once endings), so plugins stay small and pure.
 */
import type { Endpoint } from "../../endpoints/types.ts";
import type { DroppedReason } from "../../errors.ts";
import type { AdmissionRequest } from "../../stages/admit.ts";

/**
 * What flow control accepts: the admit stage's request plus optional hints. Every
 * extra field is optional, so a plain AdmissionRequest is a FlowRequest.
 */
export interface FlowRequest extends AdmissionRequest {
  /** Expected completion tokens (e.g. the body's `max_tokens`); read by token fairness. */
  readonly expectedOutputTokens?: number;
  /**
   * Latency budget in ms from arrival (e.g. from an SLO header). EDF orders by
   * arrival + deadlineMs; absent = arrival + the request TTL. Does not shorten the TTL.
   */
  readonly deadlineMs?: number;
}

/** A queued request as policies see it. Read-only; `seq` is unique and grows with arrival. */
export interface QueueItemView {
  readonly request: FlowRequest;
  readonly priority: number;
  readonly bytes: number;
  /** Clock ms when the request arrived. */
  readonly arrivedAt: number;
  /** The TTL (ms) this request was queued with. */
  readonly ttlMs: number;
  readonly seq: number;
}

/** A non-empty flow (fairness id within one priority band) as fairness policies see it. */
export interface FlowView {
  readonly fairnessId: string;
  readonly priority: number;
  /** Queued requests: >= 1, except inside `deactivated` (0). */
  readonly length: number;
  readonly bytes: number;
  /** The flow's next request under the band's ordering policy. */
  head(): QueueItemView;
}

/**
 * Orders requests inside one flow. `compare(a, b) < 0` means `a` goes first. Must be
 * a consistent total pre-order; the controller breaks ties by arrival (`seq`).
 */
export interface OrderingPolicy {
  readonly type: string;
  readonly name: string;
  compare(a: QueueItemView, b: QueueItemView): number;
}

/** Context the controller hands to fairness policies. */
export interface FairnessContext {
  /** The band's ordering (ties already broken by arrival): < 0 if `a` goes first. */
  compare(a: QueueItemView, b: QueueItemView): number;
}

/**
 * Chooses which flow of a band is served next. Stateless: per-band state comes from
 * `newState()` and is passed back in. Hooks are optional: `activated` when a flow
 * becomes non-empty, `deactivated` when it empties, `dispatched` after one of its
 * requests left the queue (before `deactivated` if that emptied it). In both
 * (de)activation hooks `others` are the band's other non-empty flows. `pick` is only
 * asked when two or more flows can be dispatched; `flows` may be a subset of the active
 * flows (those whose head has an endpoint with room), `pick` may be asked again before
 * a dispatch and must not change state; a pick outside `flows` is ignored (first flow).
 */
export interface FairnessPolicy<S = unknown> {
  readonly type: string;
  readonly name: string;
  newState(): S;
  /** `flows` is never empty; must return one of its elements. */
  pick(state: S, flows: readonly FlowView[], ctx: FairnessContext): FlowView;
  activated?(state: S, flow: FlowView, others: readonly FlowView[]): void;
  deactivated?(state: S, flow: FlowView, others: readonly FlowView[]): void;
  dispatched?(state: S, flow: FlowView, item: QueueItemView): void;
}

/** Resolves policy names (`fairnessPolicyRef`, `orderingPolicyRef`) to instances; undefined = unknown. */
export interface FlowPolicies {
  fairness(ref: string): FairnessPolicy | undefined;
  ordering(ref: string): OrderingPolicy | undefined;
}

/** Structural subset of `InFlight`: requests sent and not yet finished. */
export interface InFlightView {
  total(): number;
  get(name: string): number;
}

/**
 * One endpoint's load as the gateway believes it is now: the last scrape plus what the
 * gateway sent since (see LoadTracker in src/scheduling/framework/load.ts, shared with
 * the scheduler). Structural subset of the scheduler's `EffectiveLoad`.
 */
export interface EndpointLoad {
  /** Scraped waiting queue plus requests sent since the scrape. */
  readonly waiting: number;
  /** Scraped running requests plus requests sent since the scrape. */
  readonly running: number;
  /** Scraped KV-cache usage (0..1) plus the KV the requests sent since are assumed to hold. */
  readonly kvUsage: number;
  /** The gateway's own in-flight count on the endpoint. */
  readonly inflight: number;
}

/**
 * Many endpoints' loads at once, indexed like the endpoints array they were asked for: what
 * `LoadSource.load` gives each (no extra), plus each snapshot's time (`metrics.updatedAt`;
 * 0: never scraped). Read only.
 */
export interface RoomColumns {
  readonly waiting: Float64Array;
  readonly running: Float64Array;
  readonly assumed: Float64Array;
  readonly kvUsage: Float64Array;
  readonly inflight: Float64Array;
  readonly updatedAt: Float64Array;
}

/** Where detectors get an endpoint's load: now, or with `extra` requests added (what-if). */
export interface LoadSource {
  load(endpoint: Endpoint, extra?: number): EndpointLoad;
  /**
   * Optional: `load` of each endpoint (no extra) and its snapshot's time into `out`, at its
   * position; from the pool store's columns when it made the array (no endpoint object read).
   */
  fill?(endpoints: readonly Endpoint[], out: RoomColumns): void;
  /**
   * Optional: `subset` holds the endpoints of `endpoints` at `positions[0..count)`; where
   * `fill` reads `endpoints` from columns, later readers of `subset` may too.
   */
  subset?(
    endpoints: readonly Endpoint[],
    subset: readonly Endpoint[],
    positions: Int32Array,
    count: number,
  ): void;
}

/**
 * Saturation, per endpoint: 0 = idle, 1 = at capacity, above 1 = overloaded. An endpoint
 * has room for a band while its score < the band's ceiling; the pool saturation (the
 * gauge, gate-off shedding) is the mean over endpoints. Pure: a function of its inputs.
 * NaN counts as 1.
 */
export interface SaturationDetector {
  readonly type: string;
  readonly name: string;
  /** `now` (clock ms) judges metric staleness; `load` already counts what was just sent. */
  score(endpoint: Endpoint, load: EndpointLoad, now: number): number;
  /**
   * Optional: `score` of the first `n` endpoints of `cols` at once, into `out`; NaN where an
   * endpoint must be asked through `score` (what the columns cannot tell, e.g. whether an old
   * snapshot is stale, which its scrape status decides). Flow control's room check runs it
   * over every candidate of every request (issue 19, twenty-fourth pass).
   */
  scoreColumns?(cols: RoomColumns, n: number, now: number, out: Float64Array): void;
}

/** A plugin as written in YAML (`plugins: [{type, name?, parameters?}]`). */
export interface PluginSpec {
  readonly type: string;
  readonly name?: string;
  readonly parameters?: unknown;
}

/** Builds one plugin instance from its YAML spec; throws ConfigError on bad parameters. */
export interface PluginFactory<P> {
  readonly type: string;
  create(spec: PluginSpec): P;
}

/** How a request left flow control: dispatched, or the reason it was dropped. */
export type FlowOutcome = "dispatched" | DroppedReason;

/**
 * Metric hooks (all optional; must not throw, errors are swallowed). Called
 * synchronously on the request path, so they should only set gauges / observe.
 */
export interface FlowObserver {
  /**
   * A flow's queue changed: its new length and bytes (0/0 when it emptied), and the
   * request that joined (`delta` 1) or left (-1) it with its own `requestBytes`.
   */
  queueSize?(e: {
    priority: number;
    fairnessId: string;
    requests: number;
    bytes: number;
    request: FlowRequest;
    delta: 1 | -1;
    requestBytes: number;
  }): void;
  /**
   * A request left flow control (including immediate dispatch with ms = 0, and a
   * rejection on arrival); `queued` tells whether it had waited in a queue.
   */
  queueDuration?(e: {
    priority: number;
    fairnessId: string;
    outcome: FlowOutcome;
    ms: number;
    request: FlowRequest;
    queued: boolean;
  }): void;
  /** An arrival was handled: granted at once, queued, or refused; `ms` is the time admit() took. */
  enqueue?(e: { priority: number; fairnessId: string; outcome: FlowOutcome | "queued"; ms: number }): void;
  /** One dispatch cycle over the queues ran, taking `ms`. */
  dispatchCycle?(ms: number): void;
}
