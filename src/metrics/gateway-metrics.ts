import { Counter, Gauge, Histogram, Registry } from "prom-client";

/**
 * The gateway's own Prometheus metrics, under the names GIE dashboards expect
 * (`inference_objective_*`). One Registry per app instance: no module globals, so
 * tests and several apps in one process do not share counters.
 */
export interface GatewayMetrics {
  readonly registry: Registry;
  readonly requests: Counter<"model_name" | "target_model_name">;
  readonly errors: Counter<"model_name" | "target_model_name" | "error_code">;
  readonly duration: Histogram<"model_name" | "target_model_name">;
  readonly running: Gauge<"model_name" | "target_model_name">;
  readonly rewrites: Counter<"model_rewrite_name" | "model_name" | "target_model">;
}

const DURATION_BUCKETS = [
  0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60, 120,
  180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600,
];

export function createGatewayMetrics(): GatewayMetrics {
  const registry = new Registry();
  const labels = ["model_name", "target_model_name"] as const;
  return {
    registry,
    requests: new Counter({
      name: "inference_objective_request_total",
      help: "Counter of inference objective requests broken out for each model and target model.",
      labelNames: labels,
      registers: [registry],
    }),
    errors: new Counter({
      name: "inference_objective_request_error_total",
      help: "Counter of inference objective requests errors broken out for each model and target model.",
      labelNames: [...labels, "error_code"],
      registers: [registry],
    }),
    duration: new Histogram({
      name: "inference_objective_request_duration_seconds",
      help: "Inference objective response latency distribution in seconds for each model and target model.",
      labelNames: labels,
      buckets: DURATION_BUCKETS,
      registers: [registry],
    }),
    running: new Gauge({
      name: "inference_objective_running_requests",
      help: "Inference objective number of running requests in each model.",
      labelNames: labels,
      registers: [registry],
    }),
    rewrites: new Counter({
      name: "inference_extension_model_rewrite_decisions_total",
      help: "Counter of model rewrite decisions by rewrite resource, requested model and target model.",
      labelNames: ["model_rewrite_name", "model_name", "target_model"],
      registers: [registry],
    }),
  };
}
