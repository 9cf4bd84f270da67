import { Hono } from "hono";
import { isStale } from "../src/datalayer/scraper.ts";
import type { GatewayDeps } from "../src/deps.ts";
import type { GatewayEnv } from "../src/env.ts";

/**
 * Liveness (the process answers) and readiness: not draining, and at least one endpoint
 * answered its metrics scrape recently (a pod that does not is not ready). The body says
 * which pools are ready; the gateway is ready while any pool is (a pool whose pods are all
 * down answers its own requests with 503, the others keep serving).
 */
export function healthRoutes(
  deps: Pick<GatewayDeps, "pools" | "lifecycle" | "config" | "clock">,
): Hono<GatewayEnv> {
  return new Hono<GatewayEnv>()
    .get("/healthz", (c) => c.json({ status: "ok" }))
    .get("/readyz", (c) => {
      const now = deps.clock.now();
      const staleness = deps.config.current.settings.dataLayer.stalenessMs;
      const pools = deps.pools.list().map((p) => {
        const all = p.endpoints.list();
        const ready = all.filter((e) => !isStale(e.metrics, now, staleness)).length;
        return { name: p.name, ready: ready > 0, endpoints: all.length, readyEndpoints: ready };
      });
      const body = {
        endpoints: pools.reduce((n, p) => n + p.endpoints, 0),
        readyEndpoints: pools.reduce((n, p) => n + p.readyEndpoints, 0),
        pools,
      };
      if (deps.lifecycle.shuttingDown) return c.json({ status: "shutting down", ...body }, 503);
      if (body.readyEndpoints === 0) return c.json({ status: "no ready endpoints", ...body }, 503);
      return c.json({ status: "ready", ...body });
    });
}
