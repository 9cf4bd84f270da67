import { isStale } from "../datalayer/scraper.ts";
import type { GatewayDeps } from "../deps.ts";

/** What the dashboard shows at one instant; everything is read from state already in memory. */
export interface DashboardSnapshot {
  time: number;
  pool: string;
  saturation: number;
  flowControl: boolean;
  endpoints: {
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
  }[];
  queues: {
    priority: number;
    requests: number;
    bytes: number;
    flows: { fairnessId: string; requests: number; bytes: number }[];
  }[];
  queued: number;
  rewrites: { rewrite: string; model: string; target: string; count: number }[];
}

export async function dashboardSnapshot(
  deps: Pick<
    GatewayDeps,
    "endpoints" | "inflight" | "health" | "flow" | "metrics" | "config" | "clock" | "saturation"
  >,
): Promise<DashboardSnapshot> {
  const now = deps.clock.now();
  const config = deps.config.current;
  const staleness = config.settings.dataLayer.stalenessMs;
  const stats = deps.flow?.stats();
  const rewrites = (await deps.metrics.rewrites.get()).values.map((v) => ({
    rewrite: String(v.labels.model_rewrite_name),
    model: String(v.labels.model_name),
    target: String(v.labels.target_model),
    count: v.value,
  }));
  return {
    time: Date.now(),
    pool: config.pool?.metadata.name ?? config.settings.pool ?? "default",
    saturation: deps.saturation(),
    flowControl: deps.flow !== undefined,
    endpoints: deps.endpoints.list().map((e) => ({
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
    rewrites,
  };
}
