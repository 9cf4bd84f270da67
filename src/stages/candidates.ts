import type { MiddlewareHandler } from "hono";
import type { EndpointStore } from "../endpoints/store.ts";
import type { GatewayEnv } from "../env.ts";
import { modelNotFound, noEndpoints } from "../errors.ts";

/**
 * The endpoints that serve the target model (base model or adapter). Decided before
 * admission, so a request nothing can serve is refused at once instead of waiting in
 * a queue: no endpoints at all → 503, none serving this model → 404 model_not_found.
 */
export function candidates(deps: { endpoints: EndpointStore }): MiddlewareHandler<GatewayEnv> {
  return async function candidatesStage(c, next) {
    const target = c.get("targetModel").target;
    const serving = deps.endpoints.serving(target);
    if (serving.length === 0) {
      if (deps.endpoints.list().length === 0) throw noEndpoints("The pool has no ready endpoints.");
      throw modelNotFound(target);
    }
    c.set("candidates", serving);
    await next();
  };
}
