import type { Deadline } from "../aigw/deadline.ts";
import type { AigwRouting } from "../aigw/routing.ts";
import type { ApiKey } from "../config/settings.ts";
import type { Endpoint } from "../endpoints/types.ts";
import type { ResponseHome } from "../openai/response-homes.ts";
import type { Pool } from "../pools/pool.ts";
import type { Admission, InferenceRequest, ScheduledEndpoints, TargetModel } from "../request.ts";
import type { RequestLifecycle } from "../scheduling/types.ts";
import type { RequestScope } from "../scope.ts";
import type { Eviction } from "./evictable.ts";

/**
 * One inference request on its way through the stages (routes/openai.ts runs them as one
 * handler, src/stages/pipeline.ts): what each stage learned, as plain typed fields in chain
 * order, instead of Hono context variables (a Map lookup per read, and a middleware and a
 * promise per stage). Every field is declared here, so every exchange has the same shape.
 */
export class Exchange {
  /** The client's headers, as they came. */
  readonly headers: Headers;
  /**
   * Aborts when the client goes away; a route rule's `timeouts.request` (Deadline) and an
   * eviction (Eviction) add their own reasons to it. Pod and backend calls follow this one.
   */
  signal: AbortSignal;
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
   * The answer as the stages that look at it after the inner ones see it (spill on failure,
   * the route's deadline, the scope's end), and the error it was made of, if any: what
   * Hono's `c.res` and `c.error` were when the stages were middlewares.
   */
  res: Response | undefined = undefined;
  error: unknown = undefined;
  /** The answer forward built with `x-request-id` already among its headers (the pipeline sets it on any other). */
  idSetOn: Response | undefined = undefined;

  constructor(
    /** The client's request as it arrived (its body is read once, by parse). */
    readonly request: Request,
    readonly requestId: string,
  ) {
    this.headers = request.headers;
    this.signal = request.signal;
  }
}
