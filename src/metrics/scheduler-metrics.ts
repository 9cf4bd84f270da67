import { Gauge, Histogram, type Registry } from "prom-client";
import type { PoolScheduler } from "../scheduling/pool-scheduler.ts";

const DECISION_BUCKETS = [
  0.00001, 0.00002, 0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1,
];

/** `inference_extension_*` scheduler metrics: decision and per-plugin durations, prefix index size and hit ratio. */
export function schedulerMetrics(registry: Registry) {
  const plugin = new Histogram({
    name: "inference_extension_plugin_duration_seconds",
    help: "Time a scheduling plugin took for one request, in seconds.",
    labelNames: ["plugin_type", "plugin_name"],
    buckets: DECISION_BUCKETS,
    registers: [registry],
  });
  const decision = new Histogram({
    name: "inference_extension_scheduler_e2e_duration_seconds",
    help: "Time one scheduling decision took, in seconds.",
    buckets: DECISION_BUCKETS,
    registers: [registry],
  });
  return {
    observe: (type: string, name: string, seconds: number) =>
      plugin.observe({ plugin_type: type, plugin_name: name }, seconds),
    observeDecision: (seconds: number) => decision.observe(seconds),
    /** Gauges read from the scheduler when /metrics is scraped. */
    attach(scheduler: PoolScheduler) {
      new Gauge({
        name: "inference_extension_prefix_indexer_size",
        help: "Prefix block hashes held by the approximate prefix index.",
        registers: [registry],
        collect() {
          this.set(scheduler.prefixIndex.size);
        },
      });
      new Gauge({
        name: "inference_extension_prefix_indexer_hit_ratio",
        help: "Matched prefix blocks / looked-up prefix blocks since start.",
        registers: [registry],
        collect() {
          this.set(scheduler.prefixIndex.stats().hitRatio);
        },
      });
    },
  };
}
