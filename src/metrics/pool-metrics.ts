import { Counter, Gauge, type Registry } from "prom-client";
import type { Clock } from "../clock.ts";
import { isStale } from "../datalayer/scraper.ts";
import type { EndpointStore } from "../endpoints/store.ts";

/**
 * `inference_pool_*` gauges, computed from the endpoint store when /metrics is read
 * (nothing is done per scrape or per request), plus the scrape error counter.
 */
export function registerPoolMetrics(opts: {
  registry: Registry;
  store: EndpointStore;
  clock: Clock;
  poolName: () => string;
  stalenessMs: () => number;
  /** Ejected by passive health: not ready, whatever its metrics say. */
  isEjected?: (name: string) => boolean;
}): { scrapeErrors: Counter<"name" | "model_server_pod"> } {
  const { registry, store } = opts;
  /** Endpoints whose metrics are fresh: what the pool averages are taken over. */
  const fresh = () => store.list().filter((e) => !isStale(e.metrics, opts.clock.now(), opts.stalenessMs()));
  const average = (
    pick: (m: { kvCacheUsage: number; waitingQueueSize: number; runningRequests: number }) => number,
  ) => {
    const list = fresh();
    return list.length ? list.reduce((sum, e) => sum + pick(e.metrics), 0) / list.length : 0;
  };
  const poolGauge = (name: string, help: string, value: () => number) =>
    new Gauge({
      name,
      help,
      labelNames: ["name"],
      registers: [registry],
      collect() {
        this.reset();
        this.set({ name: opts.poolName() }, value());
      },
    });
  poolGauge(
    "inference_pool_average_kv_cache_utilization",
    "The average kv cache utilization for an inference server pool.",
    () => average((m) => m.kvCacheUsage),
  );
  poolGauge(
    "inference_pool_average_queue_size",
    "The average number of requests pending in the model server queue.",
    () => average((m) => m.waitingQueueSize),
  );
  poolGauge(
    "inference_pool_average_running_requests",
    "The average number of requests running on the model servers.",
    () => average((m) => m.runningRequests),
  );
  // Ready = fresh metrics and not ejected: a dead or hung pod leaves the count as it leaves scheduling.
  poolGauge(
    "inference_pool_ready_pods",
    "The number of ready pods in the inference server pool.",
    () => fresh().filter((e) => !opts.isEjected?.(e.name)).length,
  );
  new Gauge({
    name: "inference_pool_per_pod_queue_size",
    help: "The total number of requests pending in the model server queue for each underlying pod.",
    labelNames: ["name", "model_server_pod"],
    registers: [registry],
    collect() {
      this.reset();
      const pool = opts.poolName();
      for (const e of store.list())
        this.set({ name: pool, model_server_pod: e.name }, e.metrics.waitingQueueSize);
    },
  });
  const scrapeErrors = new Counter({
    name: "inference_pool_metrics_scrape_errors_total",
    help: "Failed scrapes of model servers' /metrics, per pod.",
    labelNames: ["name", "model_server_pod"],
    registers: [registry],
  });
  return { scrapeErrors };
}
