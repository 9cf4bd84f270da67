import { GatewayError, modelNotFound, noEndpoints, quoted } from "../errors.ts";
import type { Exchange } from "./exchange.ts";

/**
 * The endpoints that serve the target model (base model or adapter). Decided before
 * admission, so a request nothing can serve is refused at once instead of waiting in
 * a queue: no endpoints at all → 503, none serving this model → 404 model_not_found.
 * When a rewrite chose the target, the 404 names what the client asked for and the
 * target it was rewritten to, so the client is not told about a model it never sent. A LoRA
 * adapter that BBR's ConfigMaps map to a base model and no pod lists yet is served by the
 * pods of its base model (vLLM loads adapters on demand).
 */
export function candidates(): (x: Exchange) => void {
  return function candidatesStage(x) {
    const { requested, target } = x.targetModel;
    const pool = x.pool;
    let serving = pool.endpoints.serving(target);
    // A LoRA adapter no pod lists yet: the pods of its base model load it on demand (BBR's mapping).
    const base = serving.length === 0 ? pool.config.current.baseModels.get(target) : undefined;
    if (base !== undefined) serving = pool.endpoints.serving(base);
    if (serving.length === 0) {
      if (pool.endpoints.list().length === 0)
        throw noEndpoints(`The pool ${quoted(pool.name)} has no ready endpoints.`);
      if (target === requested) throw modelNotFound(target);
      throw new GatewayError({
        status: 404,
        message: `The model ${quoted(requested)} is rewritten to ${quoted(target)}, which no endpoint of the pool ${quoted(pool.name)} serves.`,
        param: "model",
        code: "model_not_found",
      });
    }
    x.candidates = serving;
  };
}
