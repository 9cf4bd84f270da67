import type { GatewayConfig } from "../config/load.ts";
import type { CatalogModel } from "../config/settings.ts";
import type { EndpointStore } from "../endpoints/store.ts";

/** One entry of OpenAI's `/v1/models`. */
export interface ModelCard {
  id: string;
  object: "model";
  /** Unix seconds. */
  created: number;
  owned_by: string;
}

/**
 * `created` when neither the catalog nor a resource defines one: 2025-01-01T00:00:00Z.
 * A constant, so the value is the same across calls, replicas and restarts.
 */
export const FALLBACK_CREATED = 1735689600;

interface Candidate {
  id: string;
  /** creationTimestamp of the resource that defines the model, if any. */
  definedAt: string | undefined;
}

/**
 * Every model a client may ask for: what endpoints serve (base models and LoRA
 * adapters, defined by the pool) plus the aliases of InferenceModelRewrite rules that
 * rewrite to at least one model some endpoint serves.
 * `owned_by`/`created` come from the catalog, else the default owner and the
 * defining resource's creationTimestamp, else FALLBACK_CREATED. Sorted by id.
 */
export function listModels(config: GatewayConfig, endpoints: EndpointStore): ModelCard[] {
  const catalog = config.settings.catalog;
  const byId = new Map<string, CatalogModel>(catalog.models.map((m) => [m.id, m]));
  const candidates = new Map<string, Candidate>();
  const poolCreated = config.pool?.metadata.creationTimestamp;
  for (const id of endpoints.models()) candidates.set(id, { id, definedAt: poolCreated });
  for (const alias of config.rewriteTable.aliases()) {
    // An alias none of whose targets any endpoint serves would only ever answer 404.
    if (alias.targets.every((t) => endpoints.serving(t).length === 0)) continue;
    if (!candidates.has(alias.model))
      candidates.set(alias.model, { id: alias.model, definedAt: alias.creationTimestamp });
  }
  const cards: ModelCard[] = [];
  for (const c of candidates.values()) {
    const entry = byId.get(c.id);
    if (entry?.hidden) continue;
    cards.push({
      id: c.id,
      object: "model",
      created: unixSeconds(entry?.createdAt) ?? unixSeconds(c.definedAt) ?? FALLBACK_CREATED,
      owned_by: entry?.ownedBy ?? catalog.defaultOwner,
    });
  }
  return cards.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * `/v1/models` for the whole gateway: every pool's models and aliases (each pool's from its
 * own config view), one card per id; where two pools list an id, the pool a request for it
 * routes to (the first) gives the card.
 */
export function listAllModels(
  pools: Iterable<{
    readonly config: { readonly current: GatewayConfig };
    readonly endpoints: EndpointStore;
  }>,
): ModelCard[] {
  const cards = new Map<string, ModelCard>();
  for (const p of pools)
    for (const card of listModels(p.config.current, p.endpoints))
      if (!cards.has(card.id)) cards.set(card.id, card);
  return [...cards.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function unixSeconds(timestamp: string | undefined): number | undefined {
  if (!timestamp) return undefined;
  const ms = Date.parse(timestamp);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : undefined;
}
