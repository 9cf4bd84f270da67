import type { GatewayConfig } from "../config/load.ts";
import type { EndpointStore } from "../endpoints/store.ts";

export interface ModelCard {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
}

/** Stable `created` when nothing defines one: 2025-01-01T00:00:00Z, the same across calls and restarts. */
export const FALLBACK_CREATED = 1735689600;

/** Every model a client may ask for: those endpoints serve, plus rewrite aliases. */
export function listModels(
  config: GatewayConfig,
  endpoints: EndpointStore,
  _opts: { includeHidden?: boolean } = {},
): ModelCard[] {
  const cards = new Map<string, ModelCard>();
  const add = (id: string, created: number) => {
    if (!cards.has(id)) cards.set(id, { id, object: "model", created, owned_by: "inference-gateway" });
  };
  for (const m of endpoints.models()) add(m, FALLBACK_CREATED);
  for (const alias of config.rewriteTable.aliases()) add(alias.model, createdFrom(alias.creationTimestamp));
  return [...cards.values()].sort((a, b) => a.id.localeCompare(b.id));
}

function createdFrom(timestamp: string | undefined): number {
  const ms = timestamp ? Date.parse(timestamp) : Number.NaN;
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : FALLBACK_CREATED;
}
