import { Hono } from "hono";
import type { GatewayDeps } from "../src/deps.ts";
import type { GatewayEnv } from "../src/env.ts";
import type { ApiKind } from "../src/request.ts";
import { accepted } from "../src/stages/accepted.ts";
import { admit } from "../src/stages/admit.ts";
import { authenticate } from "../src/stages/authenticate.ts";
import { authorize } from "../src/stages/authorize.ts";
import { candidates } from "../src/stages/candidates.ts";
import { forward } from "../src/stages/forward.ts";
import { parse } from "../src/stages/parse.ts";
import { rewrite } from "../src/stages/rewrite.ts";
import { route } from "../src/stages/route.ts";
import { schedule } from "../src/stages/schedule.ts";
import { scope } from "../src/stages/scope.ts";

/**
 * The inference routes. Each is the same chain of stages:
 * scope → authenticate → parse → route (the model's pool) → rewrite → authorize →
 * candidates → accepted → admit → schedule → forward. From route on, stages use the
 * request's pool (c.var.pool): its rewrites, endpoints, flow control and scheduler. Authorize runs after rewrite so it judges the model actually
 * served; `accepted` marks the point after which model names may label metrics.
 */
export function openaiRoutes(deps: GatewayDeps): Hono<GatewayEnv> {
  const config = () => deps.config.current;
  const chain = (kind: ApiKind) =>
    [
      scope(deps),
      authenticate({ config }),
      parse({
        kind,
        maxBodyBytes: () => config().settings.maxBodyBytes,
        bodyReadTimeoutMs: () => config().settings.bodyReadTimeoutMs,
        setTimer: deps.setTimer,
      }),
      route(deps),
      rewrite({ random: deps.random }),
      authorize(),
      candidates(),
      accepted(deps),
      admit(),
      schedule(deps),
      forward({ ...deps, config }),
    ] as const;
  return new Hono<GatewayEnv>()
    .post("/chat/completions", ...chain("chat"))
    .post("/completions", ...chain("completions"));
}
