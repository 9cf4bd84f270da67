import type { MiddlewareHandler } from "hono";
import type { EndpointStore } from "../endpoints/store.ts";
import type { GatewayEnv } from "../env.ts";
import { GatewayError, modelNotFound, noEndpoints } from "../errors.ts";
import type { Scheduler } from "../scheduling/types.ts";

/**
 * Picks endpoints for the target model: only endpoints that serve it are
 * candidates; the scheduler orders them (primary, then fallbacks).
 */
export function schedule(deps: {
  endpoints: EndpointStore;
  scheduler: Scheduler;
}): MiddlewareHandler<GatewayEnv> {
  return async function scheduleStage(c, next) {
    const target = c.var.targetModel.target;
    const candidates = deps.endpoints.serving(target);
    if (candidates.length === 0) {
      if (deps.endpoints.list().length === 0) throw noEndpoints("The pool has no ready endpoints.");
      throw modelNotFound(target);
    }
    const picked = deps.scheduler.schedule(
      {
        requestId: c.var.requestId,
        targetModel: target,
        body: c.var.inferenceRequest.body,
        headers: c.req.raw.headers,
      },
      candidates,
    );
    if (picked.length === 0) {
      throw new GatewayError({
        status: 429,
        message: "Every endpoint that serves this model is saturated; retry later.",
        code: "rejected_saturated",
        droppedReason: "rejected-saturated",
        headers: { "retry-after": "1" },
      });
    }
    c.set("endpoints", picked);
    await next();
  };
}
