import type { Deadline } from "../aigw/deadline.ts";
import type { AigwRouting } from "../aigw/routing.ts";
import type { ApiKey } from "../config/settings.ts";
import type { Endpoint } from "../endpoints/types.ts";
import type { RequestSeries } from "../metrics/request-series.ts";
import type { ResponseHome } from "../openai/response-homes.ts";
import type { Pool } from "../pools/pool.ts";
import type { ClientSignal } from "../proxy/attempt.ts";
import type { Admission, InferenceRequest, ScheduledEndpoints, TargetModel } from "../request.ts";
import type { RequestLifecycle } from "../scheduling/types.ts";
import type { RequestScope } from "../scope.ts";
import type { Eviction } from "./evictable.ts";

/** Where a runtime's request offers a light "client gone" signal (src/runtime/node-request.ts). */
const CLIENT_SIGNAL = Symbol.for("inference-gateway.clientSignal");

/**
 * One inference request on its way through the stages (routes/openai.ts runs them as one
 * handler, src/stages/pipeline.ts): what each stage learned, as plain typed fields in chain
 * order, instead of Hono context variables (a Map lookup per read, and a middleware and a
 * promise per stage). Every field is declared here, so every exchange has the same shape.
 */
export class Exchange {
  /** The client's headers, as they came. */
  readonly headers: Headers;
  /** The signal once read or replaced (see `signal`). */
  #signal: AbortSignal | undefined = undefined;
  /** Opened first (the scope stage); everything the request holds is released through it. */
  scope!: RequestScope;
  /** The API key entry the request authenticated with; unset when auth is off. */
  principal: ApiKey | undefined = undefined;
  inferenceRequest!: InferenceRequest;
  /** Whether the client sent a fairness id header (parse reads it; route derives one when not). */
  fairnessIdSent = false;
  /** The pool the request's model routes to (the route stage). */
  pool!: Pool;
  /** The AIGatewayRoute rule the request matched, and the hosted backends it may spill to (src/aigw/). */
  aigw: AigwRouting | undefined = undefined;
  /** The rule's `timeouts.request`, when it has one (the route stage). */
  deadline: Deadline | undefined = undefined;
  /** Where the stored response a Responses API request continues lives, when known. */
  responseHome: ResponseHome | undefined = undefined;
  targetModel!: TargetModel;
  /** Endpoints serving the target model, before health and scheduling. */
  candidates!: readonly Endpoint[];
  admission: Admission | undefined = undefined;
  /** Set by admission for a request flow control may evict (negative priority only). */
  eviction: Eviction | undefined = undefined;
  endpoints!: ScheduledEndpoints;
  /** The scheduled request's plugin hooks; `forward` calls them with the endpoint that served. */
  lifecycle: RequestLifecycle | undefined = undefined;
  /**
   * The address of the pod whose answer `res` is (respond sets it); undefined while the answer
   * is the gateway's own or a hosted backend's (an error made after it, a spill, a deadline's
   * 504 clear it). The error-code label and spill-on-failure read it; the client sees it only
   * as `x-gateway-destination-endpoint-served`, when `endpointServedHeader` is on.
   */
  servedBy: string | undefined = undefined;
  /**
   * The answer as the stages that look at it after the inner ones see it (spill on failure,
   * the route's deadline, the scope's end), and the error it was made of, if any: what
   * Hono's `c.res` and `c.error` were when the stages were middlewares.
   */
  res: Response | undefined = undefined;
  error: unknown = undefined;
  /**
   * The request series forward counted the request in, and the target it was resolved for:
   * the scope's end reuses it while the target is the same (a spill to a hosted backend
   * replaces the target) instead of resolving the same series again (issue 19, sixth pass).
   */
  series: RequestSeries | undefined = undefined;
  seriesFor: TargetModel | undefined = undefined;
  /** The answer forward built with `x-request-id` already among its headers (the pipeline sets it on any other). */
  idSetOn: Response | undefined = undefined;

  constructor(
    /** The client's request as it arrived (its body is read once, by parse). */
    readonly request: Request,
    readonly requestId: string,
  ) {
    this.headers = request.headers;
  }

  /**
   * Aborts when the client goes away; a route rule's `timeouts.request` (Deadline) and an
   * eviction (Eviction) add their own reasons to it (they replace it). Read from the request
   * on first use: under Node the request's signal is built when read (~4 µs), and a request
   * whose client stays needs none (attempt takes `clientSignal`).
   */
  get signal(): AbortSignal {
    if (!this.#signal) this.#signal = this.request.signal;
    return this.#signal;
  }

  set signal(signal: AbortSignal) {
    this.#signal = signal;
  }

  /**
   * What pod and backend calls follow: `signal` once something read or replaced it;
   * before that, the lighter "client gone" signal the runtime's request offers (Node:
   * src/runtime/node-request.ts, CLIENT_SIGNAL), which aborts with the same reason.
   * Runtimes offering none get `signal`.
   */
  get clientSignal(): ClientSignal {
    if (this.#signal) return this.#signal;
    const offered = (this.request as { [CLIENT_SIGNAL]?: () => ClientSignal })[CLIENT_SIGNAL];
    return offered ? offered.call(this.request) : this.signal;
  }
}
