import { Hono } from "hono";
import type { GatewayDeps } from "../src/deps.ts";
import type { GatewayEnv } from "../src/env.ts";
import { requireMetricsKey } from "../src/stages/authenticate.ts";

/** Prometheus exposition of the gateway's own metrics. */
export function metricsRoutes(deps: Pick<GatewayDeps, "metrics" | "config">): Hono<GatewayEnv> {
  const { registry } = deps.metrics;
  return new Hono<GatewayEnv>().get(
    "/metrics",
    requireMetricsKey({ config: () => deps.config.current }),
    async (c) => c.body(await registry.metrics(), 200, { "content-type": registry.contentType }),
  );
}
