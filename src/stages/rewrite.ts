import type { Random } from "../clock.ts";
import type { Exchange } from "./exchange.ts";

/**
 * Decides the target model. The `x-gateway-model-name-rewrite` header sets the
 * initial target; an InferenceModelRewrite rule matching the requested model wins
 * over it (exact rule first, then generic), with one weighted pick. The decision is
 * counted later, once the request is accepted (stages/accepted.ts), and authorized
 * right after this stage, against the model actually served.
 */
export function rewrite(deps: { random: Random }): (x: Exchange) => void {
  return function rewriteStage(x) {
    const req = x.inferenceRequest;
    // The rules of the request's pool (their poolRef names it).
    const decision = x.pool.config.current.rewriteTable.resolve(req.model, deps.random);
    x.targetModel = {
      requested: req.model,
      target: decision?.targetModel ?? req.modelRewriteHeader ?? req.model,
      rewriteName: decision?.rewriteName,
    };
  };
}
