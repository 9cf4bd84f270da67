import type { ConfigHolder } from "../config/holder.ts";
import type { GatewayConfig } from "../config/load.ts";
import { Pool, type PoolShared } from "./pool.ts";

/** Most model → pool answers kept; past it the cache starts over (names come from clients). */
const ROUTE_CACHE_LIMIT = 4096;

/**
 * Every pool the gateway serves, kept in step with the config: a reload or the cluster
 * adds a pool (built and started at once), updates one (its part swapped in), or removes
 * one (it stops taking requests, finishes those it has, then stops). And the routing rule
 * that replaces BBR + an HTTPRoute per pool: `route(model)`.
 */
export class PoolSet {
  private pools = new Map<string, Pool>();
  private readonly retiring = new Set<Pool>();
  private started: { timers: boolean } | undefined;
  private routes = new Map<string, Pool>();
  private readonly changeListeners = new Set<() => void>();

  constructor(
    private readonly config: ConfigHolder,
    private readonly shared: PoolShared,
    /** Feeds a pool its endpoints from the config (static endpoints); absent when the cluster does. */
    private readonly feed?: (pool: Pool, next: GatewayConfig, before: GatewayConfig | undefined) => void,
  ) {
    this.reconcile(config.current, undefined);
    let before = config.current;
    config.onSwap((next) => {
      const prev = before;
      before = next;
      this.reconcile(next, prev);
    });
  }

  /** The pools served now, in routing order. */
  list(): Pool[] {
    return [...this.pools.values()];
  }

  get(name: string): Pool | undefined {
    return this.pools.get(name);
  }

  /** The first pool: what single-pool callers (and the embedded default's first curl) mean. */
  first(): Pool {
    return this.pools.values().next().value!;
  }

  /** Called after pools are added, removed or change endpoints. */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /**
   * The pool a request for `model` goes to, as BBR + an HTTPRoute per pool would send it:
   * the first pool (config order) with an InferenceModelRewrite rule naming the model;
   * else the first whose endpoints serve it (base model or LoRA adapter); else the first
   * with a rewrite rule for every model; else the first with endpoints whose models are not
   * known yet; else the pool of the LoRA adapter's base model (BBR's `bbr-managed`
   * ConfigMaps); else, with one pool, that pool (its stages say what is missing); else none
   * (a 404 naming the model). `fallbackTarget` (the rewrite
   * header's model) is tried where the model itself found nothing.
   */
  route(model: string, fallbackTarget?: string): Pool | undefined {
    const cached = this.routes.get(model);
    if (cached) return cached;
    // An adapter no pod lists yet goes where its base model is served (BBR's ConfigMaps).
    const base = this.config.current.baseModels.get(model);
    const pool = this.decide(model) ?? (base !== undefined ? this.decide(base) : undefined);
    if (pool) {
      if (this.routes.size >= ROUTE_CACHE_LIMIT) this.routes = new Map();
      this.routes.set(model, pool);
      return pool;
    }
    // Not cached: it depends on the header, and the same model may come with another one.
    const byHeader = fallbackTarget ? this.decide(fallbackTarget) : undefined;
    return byHeader ?? (this.pools.size === 1 ? this.first() : undefined);
  }

  /** Models two or more pools serve (or have a rule for), with those pools in routing order. */
  contested(): { model: string; pools: string[] }[] {
    const by = new Map<string, string[]>();
    for (const p of this.pools.values()) {
      const models = new Set([
        ...p.endpoints.models(),
        ...p.config.current.rewriteTable.aliases().map((a) => a.model),
      ]);
      for (const m of models) by.set(m, [...(by.get(m) ?? []), p.name]);
    }
    return [...by].filter(([, ps]) => ps.length > 1).map(([model, pools]) => ({ model, pools }));
  }

  /** Requests waiting in flow control, in every pool (those finishing after removal too). */
  queued(): number {
    let n = 0;
    for (const p of [...this.pools.values(), ...this.retiring]) n += p.flow?.stats().queued ?? 0;
    return n;
  }

  start(timers: boolean): void {
    this.started = { timers };
    for (const p of this.pools.values()) p.start(timers);
  }

  async refresh(models: boolean): Promise<void> {
    await Promise.all([...this.pools.values(), ...this.retiring].map((p) => p.refresh(models)));
  }

  /** Stops every pool, those still finishing after removal too (shutdown). */
  stop(): void {
    for (const p of [...this.pools.values(), ...this.retiring]) p.stop();
    this.retiring.clear();
  }

  private decide(model: string): Pool | undefined {
    const pools = [...this.pools.values()];
    return (
      pools.find((p) => p.config.current.rewriteTable.match(model) === "exact") ??
      pools.find((p) => p.endpoints.names(model)) ??
      pools.find((p) => p.config.current.rewriteTable.match(model) === "generic") ??
      // Endpoints whose models are not known yet (discovery has not answered) may serve it.
      pools.find((p) => p.endpoints.serving(model).length > 0)
    );
  }

  private reconcile(next: GatewayConfig, before: GatewayConfig | undefined): void {
    const kept = new Map<string, Pool>();
    for (const part of next.pools) {
      let pool = this.pools.get(part.name);
      if (pool) pool.update(part, next);
      else {
        pool = new Pool(part.name, part, next, this.shared);
        pool.endpoints.onChange(() => this.changed());
        if (before) this.shared.logger.info("InferencePool added", { pool: part.name });
      }
      kept.set(part.name, pool);
      this.feed?.(pool, next, before);
      if (this.started) pool.start(this.started.timers);
    }
    for (const [name, pool] of this.pools) {
      if (kept.has(name)) continue;
      this.shared.logger.info(
        "InferencePool removed: it takes no new requests and stops once those it has end",
        {
          pool: name,
        },
      );
      this.retiring.add(pool);
      pool.retire(() => this.retiring.delete(pool));
    }
    this.pools = kept;
    this.changed();
  }

  private changed(): void {
    this.routes = new Map();
    // Passive health keeps every state by endpoint name: forget names no pool has any more.
    const { health } = this.shared;
    for (const name of health.known())
      if (![...this.pools.values(), ...this.retiring].some((p) => p.endpoints.get(name))) health.remove(name);
    for (const l of this.changeListeners) l();
  }
}
