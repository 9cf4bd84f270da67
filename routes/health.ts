import { Hono } from "hono";
import { isStale } from "../src/datalayer/scraper.ts";
import type { GatewayDeps } from "../src/deps.ts";
import type { GatewayEnv } from "../src/env.ts";

/**
 * Liveness (the process answers) and readiness: not draining, and at least one
 * endpoint answered its metrics scrape recently (a pod that does not is not ready).
 */
export function healthRoutes(
  deps: Pick<GatewayDeps, "endpoints" | "lifecycle" | "config" | "clock">,
): Hono<GatewayEnv> {
  return new Hono<GatewayEnv>()
    .get("/healthz", (c) => c.json({ status: "ok" }))
    .get("/readyz", (c) => {
      const all = deps.endpoints.list();
      const now = deps.clock.now();
      const staleness = deps.config.current.settings.dataLayer.stalenessMs;
      const ready = all.filter((e) => !isStale(e.metrics, now, staleness)).length;
      const body = { endpoints: all.length, readyEndpoints: ready };
      if (deps.lifecycle.shuttingDown) return c.json({ status: "shutting down", ...body }, 503);
      if (ready === 0) return c.json({ status: "no ready endpoints", ...body }, 503);
      return c.json({ status: "ready", ...body });
    });
}
