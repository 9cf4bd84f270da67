import type { ModelCard } from "../models/catalogue.ts";
import type { AigwConfig } from "./types.ts";

/**
 * `/v1/models` with the route rules' models, as Envoy AI Gateway lists them: every Exact
 * `x-ai-eg-model` value of a rule, owned by its `modelsOwnedBy` (default "Envoy AI Gateway")
 * and created at its `modelsCreatedAt` (default: the AIGatewayRoute's creationTimestamp).
 * A rule's card replaces a pool's card of the same id (the rule decides where it goes); the
 * first rule listing a model wins. Sorted by id.
 */
export function withRouteModels(cards: readonly ModelCard[], routes: AigwConfig | undefined): ModelCard[] {
  if (!routes) return [...cards];
  const byId = new Map(cards.map((c) => [c.id, c]));
  const ruled = new Set<string>();
  for (const rule of routes.rules)
    for (const id of rule.models) {
      if (ruled.has(id)) continue;
      ruled.add(id);
      byId.set(id, { id, object: "model", created: rule.created, owned_by: rule.ownedBy });
    }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
