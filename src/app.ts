import { Hono } from "hono";
import { getPath } from "hono/utils/url";
import { dashboardRoutes } from "../routes/dashboard.ts";
import { healthRoutes } from "../routes/health.ts";
import { metricsRoutes } from "../routes/metrics.ts";
import { modelRoutes } from "../routes/models.ts";
import { openaiRoutes } from "../routes/openai.ts";
import type { GatewayDeps } from "./deps.ts";
import type { GatewayEnv } from "./env.ts";
import { GatewayError, notFound, toErrorResponse } from "./errors.ts";
import { routeAt } from "./openai/routes.ts";
import { requestId } from "./stages/request-id.ts";

/**
 * The request's path. An HTTP/1.0 request without `Host` reaches the app with an
 * origin-less URL (`/v1/x`, no scheme), which Hono's own getPath cuts wrongly (to
 * `/x`): route it as if it had an origin.
 */
export function requestPath(request: Request): string {
  const url = request.url;
  return getPath(url.startsWith("/") ? ({ url: `http://unknown${url}` } as Request) : request);
}

/** Builds the gateway's Hono app from its dependencies. No I/O happens here. */
export function createApp(deps: GatewayDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>({ getPath: requestPath });
  app.use("*", requestId());
  app.route("/", healthRoutes(deps));
  app.route("/", metricsRoutes(deps));
  app.route("/", dashboardRoutes(deps));
  app.route("/v1", modelRoutes(deps));
  app.route("/", openaiRoutes(deps));
  app.notFound((c) =>
    toErrorResponse(notFound(`Unknown path: ${c.req.method} ${c.req.path}`, "unknown_url")),
  );
  app.onError((err, c) => {
    if (!(err instanceof GatewayError)) {
      deps.logger.error("unhandled error", {
        requestId: c.get("requestId"),
        // A DOMException's stack can be empty: fall back to its name and message.
        error: err instanceof Error ? err.stack || `${err.name}: ${err.message}` : String(err),
      });
    }
    // /v1/messages answers errors in Anthropic's shape, as Anthropic's SDKs expect.
    return toErrorResponse(err, {}, routeAt(c.req.path)?.errors);
  });
  return app;
}
