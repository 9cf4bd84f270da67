import { Hono } from "hono";
import type { GatewayDeps } from "../src/deps.ts";
import type { GatewayEnv } from "../src/env.ts";

/** Liveness (the process answers) and readiness (it can route: not draining, some endpoint ready). */
export function healthRoutes(deps: Pick<GatewayDeps, "endpoints" | "lifecycle">): Hono<GatewayEnv> {
  return new Hono<GatewayEnv>()
    .get("/healthz", (c) => c.json({ status: "ok" }))
    .get("/readyz", (c) => {
      const endpoints = deps.endpoints.list().length;
      if (deps.lifecycle.shuttingDown) return c.json({ status: "shutting down", endpoints }, 503);
      if (endpoints === 0) return c.json({ status: "no ready endpoints", endpoints }, 503);
      return c.json({ status: "ready", endpoints });
    });
}
