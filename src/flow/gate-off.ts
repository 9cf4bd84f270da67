import type { GatewayConfig } from "../config/load.ts";
import { GatewayError } from "../errors.ts";
import type { Admitter } from "../stages/admit.ts";
import { priorityOf } from "./objectives.ts";

const NOTHING_HELD = { release() {} };

/**
 * Admission with flow control switched off: everything is forwarded at once,
 * except sheddable requests (priority < 0) while the pool is saturated (>= 1.0),
 * which get 429 `rejected-saturated`. It never waits, so it answers through `admitNow`
 * too (no promise: the admit stage goes on in the same turn).
 */
export function gateOffAdmitter(deps: { config: () => GatewayConfig; saturation: () => number }): Admitter {
  const admitNow: NonNullable<Admitter["admitNow"]> = (request) => {
    const priority = priorityOf(deps.config(), request.objective);
    if (priority < 0 && deps.saturation() >= 1) {
      throw new GatewayError({
        status: 429,
        message: `The pool is saturated and objective '${request.objective}' is sheddable (priority ${priority}); retry later.`,
        code: "rejected_saturated",
        droppedReason: "rejected-saturated",
        headers: { "retry-after": "1" },
      });
    }
    return { admission: { priority, fairnessId: request.fairnessId, queuedMs: 0 }, slot: NOTHING_HELD };
  };
  return {
    async admit(request) {
      return admitNow(request);
    },
    admitNow,
  };
}
