import type { MiddlewareHandler } from "hono";
import type { GatewayEnv } from "../env.ts";
import { badRequest, GatewayError, quoted } from "../errors.ts";
import type { ResponseHomes } from "../openai/response-homes.ts";
import type { PoolSet } from "../pools/set.ts";
import { gatewayHeader, MAX_FAIRNESS_ID_LENGTH } from "./parse.ts";

/**
 * Picks the request's pool from its model, as BBR (body model → header) and an HTTPRoute
 * per pool would (`PoolSet.route`): a model no pool serves is a 404 naming what the client
 * asked for. The request counts as the pool's until it ends, so a pool removed by a
 * reload finishes it before stopping. A request that sent no fairness id gets the one its
 * pool's PreAdmission plugins derive (e.g. agent-identity). A Responses API request with
 * a `previous_response_id` this gateway saw answered goes to that response's pool (and the
 * schedule stage to its pod), whatever its model routes to.
 */
export function route(deps: { pools: PoolSet; responseHomes: ResponseHomes }): MiddlewareHandler<GatewayEnv> {
  return async function routeStage(c, next) {
    const req = c.get("inferenceRequest");
    // A Responses API turn that continues a stored response goes where that response lives.
    const home = req.previousResponseId ? deps.responseHomes.find(req.previousResponseId) : undefined;
    const homePool = home ? deps.pools.get(home.pool) : undefined;
    if (home && homePool) c.set("responseHome", home);
    const pool = homePool ?? deps.pools.route(req.model, req.modelRewriteHeader);
    if (!pool)
      throw new GatewayError({
        status: 404,
        message: `The model ${quoted(req.model)} does not exist: no pool of this gateway serves it. GET /v1/models lists the models served.`,
        param: "model",
        code: "model_not_found",
      });
    c.set("pool", pool);
    c.get("scope").hold(pool.enter());
    const headers = c.req.raw.headers;
    if (!c.get("principal")?.tenant && !gatewayHeader(headers, "inference-fairness-id")) {
      const derived = pool.scheduler.fairnessIdFor(headers);
      if (derived) {
        if (derived.length > MAX_FAIRNESS_ID_LENGTH)
          throw badRequest(
            `The agent session header the fairness id is derived from is ${derived.length} characters long; at most ${MAX_FAIRNESS_ID_LENGTH} are accepted. Send a shorter session id, or an x-gateway-inference-fairness-id header.`,
            null,
            "invalid_fairness_id",
          );
        c.set("inferenceRequest", { ...req, fairnessId: derived });
      }
    }
    await next();
  };
}
