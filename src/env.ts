import type { Admission, InferenceRequest, ScheduledEndpoints, TargetModel } from "./request.ts";
import type { RequestScope } from "./scope.ts";

/** Every context variable a stage sets, in chain order. One typed map, no string keys elsewhere. */
export interface GatewayVariables {
  requestId: string;
  scope: RequestScope;
  inferenceRequest: InferenceRequest;
  targetModel: TargetModel;
  admission: Admission;
  endpoints: ScheduledEndpoints;
}

export type GatewayEnv = { Variables: GatewayVariables };
