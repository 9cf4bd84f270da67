import { Hono } from "hono";
import { withRouteModels } from "../src/aigw/models.ts";
import type { GatewayDeps } from "../src/deps.ts";
import type { GatewayEnv } from "../src/env.ts";
import { modelNotFound } from "../src/errors.ts";
import { listAllModels } from "../src/models/catalogue.ts";

/**
 * OpenAI `GET /v1/models` and `GET /v1/models/{id}` (ids may contain slashes), over every
 * pool. Both show the same models: a catalog entry with `hidden: true` stays routable but appears in neither.
 */
export function modelRoutes(deps: Pick<GatewayDeps, "pools" | "config">): Hono<GatewayEnv> {
  // AIGatewayRoute rules add their models, with their modelsOwnedBy / modelsCreatedAt.
  const models = () => withRouteModels(listAllModels(deps.pools.list()), deps.config.current.routes);
  return new Hono<GatewayEnv>()
    .get("/models", (c) => c.json({ object: "list", data: models() }))
    .get("/models/:id{.+}", (c) => {
      const id = c.req.param("id");
      // A hidden model is routable but not shown: retrieving it is a 404, like an unknown one.
      const model = models().find((m) => m.id === id);
      if (!model) throw modelNotFound(id);
      return c.json(model);
    });
}
