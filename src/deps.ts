import type { Clock, Random, SetTimer } from "./clock.ts";
import type { ConfigHolder } from "./config/holder.ts";
import type { PassiveHealth } from "./endpoints/health.ts";
import type { InFlight } from "./endpoints/inflight.ts";
import type { EndpointStore } from "./endpoints/store.ts";
import type { FlowController } from "./flow/control/index.ts";
import type { Closing } from "./lifecycle.ts";
import type { Logger } from "./log.ts";
import type { GatewayMetrics } from "./metrics/gateway-metrics.ts";
import type { AfterAnswer } from "./observability/after-answer.ts";
import type { RecentRequests } from "./observability/recent.ts";
import type { ResponseHomes } from "./openai/response-homes.ts";
import type { PoolSet } from "./pools/set.ts";
import type { DirectStreams } from "./proxy/relay.ts";
import type { Scheduler } from "./scheduling/types.ts";
import type { Admitter } from "./stages/admit.ts";

/** The one outbound call the request path makes; injected so tests and runtimes can swap it. */
export type FetchFn = (url: string, init: RequestInit) => Promise<Response>;

/** Everything the app is built from; tests pass fakes for any of it. */
export interface GatewayDeps {
  config: ConfigHolder;
  /** Every pool served; a request's own is its Exchange's `pool` (the route stage picks it by model). */
  pools: PoolSet;
  /** The first pool's endpoints (single-pool callers and tests); requests use their pool's. */
  readonly endpoints: EndpointStore;
  inflight: InFlight;
  /** Passive health (outlier detection): endpoints ejected by their real answers. */
  health: PassiveHealth;
  /** The first pool's scheduler, admitter and saturation (see `endpoints`). */
  readonly scheduler: Scheduler;
  readonly admitter: Admitter;
  /** Pool saturation now (>= 1 means full), from the configured detector. */
  readonly saturation: () => number;
  /** Which pool and pod hold each Responses API response (for `previous_response_id` and the id routes). */
  responseHomes: ResponseHomes;
  /** The last finished requests, for the dashboard. */
  recent: RecentRequests;
  /**
   * Where a request's metrics and log line are written: at once, unless a runtime entry
   * defers them past the answer's write (`afterAnswer.defer(setImmediate)`; src/runtime/bun.ts).
   */
  afterAnswer: AfterAnswer;
  /** The first pool's flow controller when flow control is on (queues, stats, shutdown). */
  readonly flow: FlowController | undefined;
  metrics: GatewayMetrics;
  logger: Logger;
  clock: Clock;
  random: Random;
  /** Timers of the request path (attempts, relays) and passive health; fake in tests. */
  setTimer: SetTimer;
  fetch: FetchFn;
  /** Streamed answers as the runtime's direct streams (GatewayOptions.directStreams). */
  directStreams: DirectStreams;
  /**
   * Lifecycle flags read by /readyz; `closing` fires when shutdown stops waiting for
   * running requests (they then end with a 503 body or an SSE error event).
   */
  lifecycle: { shuttingDown: boolean; closing?: Closing };
}
