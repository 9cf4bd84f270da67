import { Hono } from "hono";
import type { GatewayDeps } from "../src/deps.ts";
import type { GatewayEnv } from "../src/env.ts";
import type { AfterAnswer } from "../src/observability/after-answer.ts";
import { requireMetricsKey } from "../src/stages/authenticate.ts";

/**
 * Prometheus exposition of the gateway's own metrics. The records of answers already sent
 * (`afterAnswer`, deferred past the answer's write by the runtime entries) are written first,
 * so a scrape sees every request answered before it, whatever the event loop's order.
 */
export function metricsRoutes(
  deps: Pick<GatewayDeps, "metrics" | "config"> & { afterAnswer?: Pick<AfterAnswer, "drain"> },
): Hono<GatewayEnv> {
  const { registry } = deps.metrics;
  return new Hono<GatewayEnv>().get(
    "/metrics",
    requireMetricsKey({ config: () => deps.config.current }),
    async (c) => {
      deps.afterAnswer?.drain();
      return c.body(await registry.metrics(), 200, { "content-type": registry.contentType });
    },
  );
}
