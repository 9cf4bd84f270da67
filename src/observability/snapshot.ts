import { isStale } from "../datalayer/scraper.ts";
import type { GatewayDeps } from "../deps.ts";
import type { FlowControlStats } from "../flow/control/api.ts";
import type { Pool } from "../pools/pool.ts";

/** One endpoint as the dashboard shows it: the pod's scraped load and the gateway's view of it. */
export interface EndpointView {
  name: string;
  address: string;
  models: string[];
  waiting: number;
  running: number;
  kvCacheUsage: number;
  inflight: number;
  stale: boolean;
  metricsAgeMs: number | null;
  ejected: boolean;
}

/** One InferencePool: what its own detector, flow controller and endpoints say now. */
export interface PoolView {
  name: string;
  /** Pool saturation (>= 1 means full), from the pool's own detector. */
  saturation: number;
  flowControl: boolean;
  endpoints: EndpointView[];
  /** Flow-control bands, highest priority first; empty when flow control is off. */
  queues: FlowControlStats["bands"];
  queued: number;
  /** Names of the InferenceModelRewrites whose poolRef is this pool. */
  rewrites: string[];
}

/** What the dashboard shows at one instant; everything is read from state already in memory. */
export interface DashboardSnapshot {
  time: number;
  /** Every pool served, in routing order (the first wins a tie); never empty. */
  pools: PoolView[];
  /** Requests waiting in flow control, all pools together. */
  queued: number;
  /** Rewrite decisions since start; `pool` is the pool whose rewrite has that name (null: none now). */
  rewrites: { pool: string | null; rewrite: string; model: string; target: string; count: number }[];
}

type SnapshotDeps = Pick<GatewayDeps, "pools" | "inflight" | "health" | "metrics" | "clock">;

function poolView(pool: Pool, deps: SnapshotDeps, now: number): PoolView {
  const config = pool.config.current;
  const staleness = config.settings.dataLayer.stalenessMs;
  const stats = pool.flow?.stats();
  return {
    name: pool.name,
    saturation: pool.saturation(),
    flowControl: pool.flow !== undefined,
    endpoints: pool.endpoints.list().map((e) => ({
      name: e.name,
      address: e.address,
      models: [...e.models],
      waiting: e.metrics.waitingQueueSize,
      running: e.metrics.runningRequests,
      kvCacheUsage: e.metrics.kvCacheUsage,
      inflight: deps.inflight.get(e.name),
      stale: isStale(e.metrics, now, staleness, e.scrape),
      metricsAgeMs: e.metrics.updatedAt ? Math.round(now - e.metrics.updatedAt) : null,
      ejected: deps.health.isEjected(e.name),
    })),
    queues: stats?.bands ?? [],
    queued: stats?.queued ?? 0,
    rewrites: config.rewrites.map((r) => r.metadata.name),
  };
}

/**
 * The dashboard's view of every pool, read at one instant. Rewrite decisions are counted
 * without a pool label (as GIE counts them), so each is given to the pool whose
 * InferenceModelRewrite has that name now.
 */
export async function dashboardSnapshot(deps: SnapshotDeps): Promise<DashboardSnapshot> {
  const now = deps.clock.now();
  const pools = deps.pools.list().map((p) => poolView(p, deps, now));
  const owner = new Map<string, string>();
  for (const p of pools) for (const r of p.rewrites) if (!owner.has(r)) owner.set(r, p.name);
  const rewrites = (await deps.metrics.rewrites.get()).values.map((v) => {
    const rewrite = String(v.labels.model_rewrite_name);
    return {
      pool: owner.get(rewrite) ?? null,
      rewrite,
      model: String(v.labels.model_name),
      target: String(v.labels.target_model),
      count: v.value,
    };
  });
  return {
    time: Date.now(),
    pools,
    queued: pools.reduce((n, p) => n + p.queued, 0),
    rewrites,
  };
}
