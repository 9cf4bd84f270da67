/**
 * Flow control: the public surface. Wiring (gateway.ts) builds one controller per
 * pool when flow control is on, or keeps `gateOffAdmitter` (src/flow/gate-off.ts)
 * fed by the same saturation detector when it is off.
 */
import type { Clock } from "../../clock.ts";
import type { EndpointSource } from "./api.ts";
import type { InFlightView, SaturationDetector } from "./types.ts";

export {
  type EndpointSource,
  type FlowController,
  type FlowControllerOptions,
  type FlowControlStats,
  type SetTimer,
  systemSetTimer,
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
export type * from "./types.ts";

/** Pool saturation now, for the gate-off admitter (`saturation: () => number`). NaN counts as 1. */
export function poolSaturation(deps: {
  detector: SaturationDetector;
  endpoints: EndpointSource;
  inflight: InFlightView;
  clock: Clock;
}): () => number {
  return () => {
    const s = deps.detector.saturation({
      endpoints: deps.endpoints.list(),
      inflight: deps.inflight,
      now: deps.clock.now(),
    });
    return Number.isNaN(s) ? 1 : s;
  };
}
