import type { AigwRouting } from "./aigw/routing.ts";
import type { ApiKey } from "./config/settings.ts";
import type { Endpoint } from "./endpoints/types.ts";
import type { ResponseHome } from "./openai/response-homes.ts";
import type { Pool } from "./pools/pool.ts";
import type { Admission, InferenceRequest, ScheduledEndpoints, TargetModel } from "./request.ts";
import type { RequestLifecycle } from "./scheduling/types.ts";
import type { RequestScope } from "./scope.ts";

/** Every context variable a stage sets, in chain order. One typed map, no string keys elsewhere. */
export interface GatewayVariables {
  requestId: string;
  scope: RequestScope;
  /** The API key entry the request authenticated with; unset when auth is off. */
  principal: ApiKey;
  inferenceRequest: InferenceRequest;
  /** The pool the request's model routes to (the route stage). */
  pool: Pool;
  /** The AIGatewayRoute rule the request matched, and the hosted backends it may spill to (src/aigw/). */
  aigw: AigwRouting;
  /** Where the stored response a Responses API request continues lives, when known. */
  responseHome: ResponseHome;
  targetModel: TargetModel;
  /** Endpoints serving the target model, before health and scheduling. */
  candidates: readonly Endpoint[];
  admission: Admission;
  endpoints: ScheduledEndpoints;
  /** The scheduled request's plugin hooks; `forward` calls them with the endpoint that served. */
  lifecycle: RequestLifecycle;
}

export type GatewayEnv = { Variables: GatewayVariables };
