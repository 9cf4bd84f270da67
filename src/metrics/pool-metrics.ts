import { Counter, Gauge, type Registry } from "prom-client";
import type { Clock } from "../clock.ts";
import { isLagging, isStale } from "../datalayer/freshness.ts";
import type { EndpointStore } from "../endpoints/store.ts";
import type { MetricsSnapshot } from "../endpoints/types.ts";
import { alpha } from "./gateway-metrics.ts";

/**
 * `inference_pool_*` gauges, computed from the endpoint store when /metrics is read
 * (nothing is done per scrape or per request), plus the scrape error counter.
 */
export function registerPoolMetrics(opts: {
  registry: Registry;
  /** The pools served now, each with its endpoints (one series per pool, labelled `name`). */
  pools: () => Iterable<{ readonly name: string; readonly endpoints: EndpointStore }>;
  clock: Clock;
  stalenessMs: () => number;
  /** Ejected by passive health: not ready, whatever its metrics say. */
  isEjected?: (name: string) => boolean;
}): { scrapeErrors: Counter<"name" | "model_server_pod"> } {
  const { registry } = opts;
  /** Endpoints whose metrics are fresh: what the pool averages are taken over. */
  const fresh = (store: EndpointStore) =>
    store.list().filter((e) => !isStale(e.metrics, opts.clock.now(), opts.stalenessMs(), e.scrape));
  const average = (pick: (m: MetricsSnapshot) => number) => (store: EndpointStore) => {
    const list = fresh(store);
    return list.length ? list.reduce((sum, e) => sum + pick(e.metrics), 0) / list.length : 0;
  };
  /** Population standard deviation over the fresh endpoints. */
  const stdDev = (pick: (m: MetricsSnapshot) => number) => (store: EndpointStore) => {
    const list = fresh(store);
    if (list.length === 0) return 0;
    const mean = list.reduce((sum, e) => sum + pick(e.metrics), 0) / list.length;
    return Math.sqrt(list.reduce((sum, e) => sum + (pick(e.metrics) - mean) ** 2, 0) / list.length);
  };
  /** One value under GIE's name and, when given, llm-d's: same help, same `name` label. */
  const poolGauge = (names: string[], help: string, value: (store: EndpointStore) => number) => {
    for (const name of names)
      new Gauge({
        name,
        help: alpha(help),
        labelNames: ["name"],
        registers: [registry],
        collect() {
          this.reset();
          for (const p of opts.pools()) this.set({ name: p.name }, value(p.endpoints));
        },
      });
  };
  const kv = (m: MetricsSnapshot) => m.kvCacheUsage;
  const queue = (m: MetricsSnapshot) => m.waitingQueueSize;
  const running = (m: MetricsSnapshot) => m.runningRequests;
  poolGauge(
    ["inference_pool_average_kv_cache_utilization", "llm_d_epp_average_kv_cache_utilization"],
    "The average kv cache utilization for an inference server pool.",
    average(kv),
  );
  poolGauge(
    ["inference_pool_average_queue_size", "llm_d_epp_average_queue_size"],
    "The average number of requests pending in the model server queue.",
    average(queue),
  );
  poolGauge(
    ["inference_pool_average_running_requests", "llm_d_epp_average_running_requests"],
    "The average number of running requests across model servers in the pool.",
    average(running),
  );
  poolGauge(
    ["llm_d_epp_std_dev_kv_cache_utilization"],
    "The standard deviation kv cache utilization for an inference server pool.",
    stdDev(kv),
  );
  poolGauge(
    ["llm_d_epp_std_dev_queue_size"],
    "The standard deviation number of requests pending in the model server queue.",
    stdDev(queue),
  );
  poolGauge(
    ["llm_d_epp_std_dev_running_requests"],
    "The standard deviation number of running requests across model servers in the pool.",
    stdDev(running),
  );
  // Ready = not lagging (stale, late or failing scrapes) and not ejected: a dead or hung pod
  // leaves the count when it leaves scheduling (src/endpoints/usable.ts).
  const ready = (store: EndpointStore) => {
    const now = opts.clock.now();
    const stalenessMs = opts.stalenessMs();
    return store.list().filter((e) => !isLagging(e, now, stalenessMs) && !opts.isEjected?.(e.name)).length;
  };
  poolGauge(["inference_pool_ready_pods"], "The number of ready pods in the inference server pool.", ready);
  poolGauge(
    ["llm_d_epp_ready_endpoints"],
    "The number of ready endpoints in the inference server pool.",
    ready,
  );
  const perEndpoint = (name: string, label: "model_server_pod" | "model_server_endpoint", help: string) =>
    new Gauge({
      name,
      help: alpha(help),
      labelNames: ["name", label],
      registers: [registry],
      collect() {
        this.reset();
        for (const p of opts.pools())
          for (const e of p.endpoints.list())
            this.set({ name: p.name, [label]: e.name }, e.metrics.waitingQueueSize);
      },
    });
  perEndpoint(
    "inference_pool_per_pod_queue_size",
    "model_server_pod",
    "The total number of requests pending in the model server queue for each underlying pod.",
  );
  perEndpoint(
    "llm_d_epp_per_endpoint_queue_size",
    "model_server_endpoint",
    "The total number of requests pending in the model server queue for each underlying endpoint.",
  );
  const scrapeErrors = new Counter({
    name: "inference_pool_metrics_scrape_errors_total",
    help: "Failed scrapes of model servers' /metrics, per pod.",
    labelNames: ["name", "model_server_pod"],
    registers: [registry],
  });
  // llm-d counts failed polls per data source; every scrape here is the metrics data source.
  new Counter({
    name: "llm_d_epp_datalayer_poll_errors_total",
    help: alpha("Data-source poll errors per source type."),
    labelNames: ["source_type"],
    registers: [registry],
    async collect() {
      const total = (await scrapeErrors.get()).values.reduce((sum, v) => sum + v.value, 0);
      this.reset();
      this.inc({ source_type: "metrics-data-source" }, total);
    },
  });
  return { scrapeErrors };
}
