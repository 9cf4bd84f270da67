import type { MiddlewareHandler } from "hono";
import type { Random } from "../clock.ts";
import type { GatewayConfig } from "../config/load.ts";
import type { GatewayEnv } from "../env.ts";
import type { GatewayMetrics } from "../metrics/gateway-metrics.ts";

/**
 * Decides the target model. The `x-gateway-model-name-rewrite` header sets the
 * initial target; an InferenceModelRewrite rule matching the requested model wins
 * over it (exact rule first, then generic), with one weighted pick.
 */
export function rewrite(deps: {
  config: () => GatewayConfig;
  random: Random;
  metrics: Pick<GatewayMetrics, "rewrites">;
}): MiddlewareHandler<GatewayEnv> {
  return async function rewriteStage(c, next) {
    const req = c.get("inferenceRequest");
    const decision = deps.config().rewriteTable.resolve(req.model, deps.random);
    if (decision) {
      deps.metrics.rewrites.inc({
        model_rewrite_name: decision.rewriteName,
        model_name: req.model,
        target_model: decision.targetModel,
      });
    }
    c.set("targetModel", {
      requested: req.model,
      target: decision?.targetModel ?? req.modelRewriteHeader ?? req.model,
      rewriteName: decision?.rewriteName,
    });
    await next();
  };
}
