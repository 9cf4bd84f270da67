import type { Clock } from "../../clock.ts";
import type { Endpoint } from "../../endpoints/types.ts";
import type { Admission } from "../../request.ts";
import type { Admitter } from "../../stages/admit.ts";
import type { AdmitResult } from "./band.ts";
import type { FlowControlConfig } from "./config.ts";
import type {
  FlowObserver,
  FlowPolicies,
  FlowRequest,
  InFlightView,
  LoadSource,
  SaturationDetector,
} from "./types.ts";

/** Schedules `fn` after `ms`; returns a function that cancels it. Injected so tests need no real waits. */
export type SetTimer = (fn: () => void, ms: number) => () => void;

export const systemSetTimer: SetTimer = (fn, ms) => {
  const id = setTimeout(fn, ms);
  return () => clearTimeout(id);
};

/** Where endpoints come from; `EndpointStore` fits. `onChange` wakes the queue when pods appear. */
export interface EndpointSource {
  list(): readonly Endpoint[];
  /** The endpoints serving a model; absent = every endpoint serves every model. */
  serving?(model: string): readonly Endpoint[];
  onChange?(listener: () => void): () => void;
}

export interface FlowControllerOptions {
  clock: Clock;
  /** Maps an InferenceObjective name to its priority (unknown = 0). */
  priorityOf(objective: string | undefined): number;
  saturation: SaturationDetector;
  endpoints: EndpointSource;
  /** Validated `flowControl` section (FlowControlConfigSchema output); defaults when absent. */
  config?: FlowControlConfig;
  /**
   * The gateway's per-endpoint in-flight counts (`InFlight`). Granted requests not yet
   * counted there are held against the pool's room until they are.
   */
  inflight?: InFlightView;
  /** The shared assumed-load model (scheduler's LoadTracker); a private one over `inflight` when absent. */
  loads?: LoadSource;
  /**
   * Of the endpoints serving a model, those the scheduler would consider (the schedule
   * stage's freshness rule, `preferFresh`), so flow control counts room only where the
   * request can then be sent: a pod whose scrape lags is no place while a fresher one
   * exists, in both views. Absent: all of them.
   */
  usable?(endpoints: readonly Endpoint[], now: number): readonly Endpoint[];
  setTimer?: SetTimer;
  /** Fairness and ordering policies by name, from the composition root (flow control imports no plugin). */
  policies: FlowPolicies;
  /**
   * A usage-limit policy that gates bands per dispatch call (soft-reflective-ceiling-policy):
   * called once per dispatch pass with the priorities of the configured and active bands
   * (highest first) and the pool saturation; returns, per gated priority, how many of its
   * requests this pass may grant (0: not drawn from; absent: no limit). With one set, an
   * arrival below the highest band always takes a pass.
   */
  usageGate?: UsageGate;
  observe?: FlowObserver;
}

/** See FlowControllerOptions.usageGate. Stateful: each call is one dispatch call. */
export type UsageGate = (priorities: readonly number[], saturation: number) => ReadonlyMap<number, number>;

/** Counters for tests and dashboards; everything is 0 when the gateway is idle. */
export interface FlowControlStats {
  queued: number;
  queuedBytes: number;
  /** Admitted requests whose slot was not released yet. */
  dispatched: number;
  shuttingDown: boolean;
  bands: {
    priority: number;
    requests: number;
    bytes: number;
    flows: { fairnessId: string; requests: number; bytes: number }[];
  }[];
}

export interface FlowController extends Admitter {
  admit(request: FlowRequest): Promise<AdmitResult>;
  /** Capacity may have changed (a request finished, metrics refreshed): dispatch what fits. */
  onCapacityChange(): void;
  /**
   * Called by the schedule stage for a granted request: gives back the place reserved
   * at its grant (it is about to be counted in flight), and returns the endpoints with
   * room for its band (score below the band's ceiling), so the scheduler never sends it
   * into a full pod's queue; all of them when none has room, rather than none.
   */
  withRoom(endpoints: readonly Endpoint[], admission: Admission): readonly Endpoint[];
  /** Rejects every queued request and all later ones with 503 `rejected-shutting-down`. */
  shutdown(): void;
  stats(): FlowControlStats;
}
