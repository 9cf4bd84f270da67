import { Hono } from "hono";
import { getPath, mergePath } from "hono/utils/url";
import { dashboardRoutes } from "../routes/dashboard.ts";
import { healthRoutes } from "../routes/health.ts";
import { metricsRoutes } from "../routes/metrics.ts";
import { modelRoutes } from "../routes/models.ts";
import { openaiRoutes } from "../routes/openai.ts";
import type { GatewayDeps } from "./deps.ts";
import { offerDirectRoutes } from "./direct-routes.ts";
import type { GatewayEnv } from "./env.ts";
import { notFound, toErrorResponse } from "./errors.ts";
import { routeAt } from "./openai/routes.ts";
import { errorResponse } from "./stages/error-response.ts";
import { REQUEST_ID_HEADER, requestId, requestIdOf } from "./stages/request-id.ts";

/**
 * The request's path. An HTTP/1.0 request without `Host` reaches the app with an
 * origin-less URL (`/v1/x`, no scheme), which Hono's own getPath cuts wrongly (to
 * `/x`): route it as if it had an origin.
 */
export function requestPath(request: Request): string {
  const url = request.url;
  return getPath(url.startsWith("/") ? ({ url: `http://unknown${url}` } as Request) : request);
}

/**
 * Builds the gateway's Hono app from its dependencies. No I/O happens here. Every answer
 * carries `x-request-id` (the client's, or a new one). An inference POST (src/openai/routes.ts)
 * goes straight to its route's one handler by exact path, before Hono's router (the router and
 * its Context cost ~1.6 µs a request on Bun and ~11 on Node, measured in process); it is also
 * a Hono route, and sets the id itself. No middleware is mounted on `*`: the other routes get
 * the request-id middleware on their own paths (`tagged`), unknown paths in the not-found answer.
 */
export function createApp(deps: GatewayDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>({ getPath: requestPath });
  tagged(app, "/", healthRoutes(deps));
  tagged(app, "/", metricsRoutes(deps));
  tagged(app, "/", dashboardRoutes(deps));
  tagged(app, "/v1", modelRoutes(deps));
  const inference = openaiRoutes(deps);
  app.route("/", inference.app);
  app.notFound((c) => {
    const res = toErrorResponse(notFound(`Unknown path: ${c.req.method} ${c.req.path}`, "unknown_url"));
    res.headers.set(REQUEST_ID_HEADER, requestIdOf(c.req.raw.headers));
    return res;
  });
  // /v1/messages answers errors in Anthropic's shape, as Anthropic's SDKs expect.
  app.onError((err, c) => errorResponse(deps.logger, err, c.get("requestId"), routeAt(c.req.path)?.errors));
  const routed = app.fetch;
  // Hono's router would pick the same handler (strict paths, POST only): this skips only the
  // router's match and the Context it builds.
  // A server that matches exact paths itself (the Bun entry's, src/runtime/serve-bun.ts) is
  // offered the same table.
  app.fetch = offerDirectRoutes((request, env, executionCtx) => {
    if (request.method === "POST") {
      const handle = inference.direct.get(requestPath(request));
      if (handle) return handle(request);
    }
    return routed(request, env, executionCtx);
  }, inference.direct);
  return app;
}

/** Mounts `sub` at `base`, the request-id middleware first on each of its paths. */
function tagged(app: Hono<GatewayEnv>, base: string, sub: Hono<GatewayEnv>): void {
  const stage = requestId();
  for (const path of new Set(sub.routes.map((r) => mergePath(base, r.path)))) app.use(path, stage);
  app.route(base, sub);
}
