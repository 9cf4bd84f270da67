import type { MiddlewareHandler } from "hono";
import type { Random } from "../clock.ts";
import type { GatewayEnv } from "../env.ts";

/**
 * Decides the target model. The `x-gateway-model-name-rewrite` header sets the
 * initial target; an InferenceModelRewrite rule matching the requested model wins
 * over it (exact rule first, then generic), with one weighted pick. The decision is
 * counted later, once the request is accepted (stages/accepted.ts), and authorized
 * right after this stage, against the model actually served.
 */
export function rewrite(deps: { random: Random }): MiddlewareHandler<GatewayEnv> {
  return async function rewriteStage(c, next) {
    const req = c.get("inferenceRequest");
    // The rules of the request's pool (their poolRef names it).
    const decision = c.get("pool").config.current.rewriteTable.resolve(req.model, deps.random);
    c.set("targetModel", {
      requested: req.model,
      target: decision?.targetModel ?? req.modelRewriteHeader ?? req.model,
      rewriteName: decision?.rewriteName,
    });
    await next();
  };
}
