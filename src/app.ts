import { Hono } from "hono";
import { dashboardRoutes } from "../routes/dashboard.ts";
import { healthRoutes } from "../routes/health.ts";
import { metricsRoutes } from "../routes/metrics.ts";
import { modelRoutes } from "../routes/models.ts";
import { openaiRoutes } from "../routes/openai.ts";
import type { GatewayDeps } from "./deps.ts";
import type { GatewayEnv } from "./env.ts";
import { GatewayError, notFound, toErrorResponse } from "./errors.ts";
import { requestId } from "./stages/request-id.ts";

/** Builds the gateway's Hono app from its dependencies. No I/O happens here. */
export function createApp(deps: GatewayDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.use("*", requestId());
  app.route("/", healthRoutes(deps));
  app.route("/", metricsRoutes(deps));
  app.route("/", dashboardRoutes(deps));
  app.route("/v1", modelRoutes(deps));
  app.route("/v1", openaiRoutes(deps));
  app.notFound((c) =>
    toErrorResponse(notFound(`Unknown path: ${c.req.method} ${c.req.path}`, "unknown_url")),
  );
  app.onError((err, c) => {
    if (!(err instanceof GatewayError)) {
      deps.logger.error("unhandled error", {
        requestId: c.get("requestId"),
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      });
    }
    return toErrorResponse(err);
  });
  return app;
}
