/**
 * Flow control: the public surface. Wiring (gateway.ts) builds one controller per
 * pool when flow control is on, or keeps `gateOffAdmitter` (src/flow/gate-off.ts)
 * fed by the same saturation detector when it is off.
 */
import type { Clock } from "../../clock.ts";
import type { EndpointSource } from "./api.ts";
import { poolScore } from "./saturation.ts";
import type { LoadSource, SaturationDetector } from "./types.ts";

export {
  type EndpointSource,
  type FlowController,
  type FlowControllerOptions,
  type FlowControlStats,
  type SetTimer,
  systemSetTimer,
  type UsageGate,
} from "./api.ts";
export type { AdmitResult } from "./band.ts";
export {
  type BandSettings,
  checkPolicyRefs,
  type FlowControlConfig,
  type FlowControlConfigInput,
  FlowControlConfigSchema,
  type FlowControlSettings,
  flowControlSettings,
  resolveFlowControl,
} from "./config.ts";
export { createFlowController } from "./controller.ts";
export { poolScore, Reservations, scoreOf, trackedLoads } from "./saturation.ts";
export type * from "./types.ts";

/**
 * Pool saturation now (the gauge, gate-off shedding): the mean endpoint score under the
 * shared load model, so what was just sent counts at once. NaN counts as 1.
 */
export function poolSaturation(deps: {
  detector: SaturationDetector;
  endpoints: EndpointSource;
  loads: LoadSource;
  clock: Clock;
}): () => number {
  return () => poolScore(deps.detector, deps.loads, deps.endpoints.list(), deps.clock.now());
}
