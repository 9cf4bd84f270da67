import type { MiddlewareHandler } from "hono";
import type { GatewayEnv } from "../env.ts";
import type { GatewayMetrics } from "../metrics/gateway-metrics.ts";

/**
 * Runs once a request is authorized and a pod serves its target: from here on the
 * gateway has accepted it, so its model names may label metrics (until then they
 * label as `unknown`: a refused name must not cost a series) and its rewrite decision
 * is counted.
 */
export function accepted(deps: {
  metrics: Pick<GatewayMetrics, "labels" | "rewrites">;
}): MiddlewareHandler<GatewayEnv> {
  return async function acceptedStage(c, next) {
    const target = c.get("targetModel");
    const labels = deps.metrics.labels;
    labels.accept(target.requested, target.target);
    if (target.rewriteName !== undefined) {
      deps.metrics.rewrites.inc({
        model_rewrite_name: target.rewriteName,
        model_name: labels.name(target.requested),
        target_model: labels.name(target.target),
      });
    }
    await next();
  };
}
