import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { ModelLabelCap } from "./label-cap.ts";

/**
 * The gateway's own Prometheus metrics, under the names GIE dashboards expect
 * (`inference_objective_*`). One Registry per app instance: no module globals, so
 * tests and several apps in one process do not share counters.
 */
export interface GatewayMetrics {
  readonly registry: Registry;
  /**
   * Model label values, bounded in count, length and to names the gateway accepted
   * (see label-cap.ts): use for every model-labelled series, never a raw client string.
   */
  readonly labels: ModelLabelCap;
  readonly requests: Counter<"model_name" | "target_model_name">;
  readonly errors: Counter<"model_name" | "target_model_name" | "error_code">;
  readonly duration: Histogram<"model_name" | "target_model_name">;
  readonly running: Gauge<"model_name" | "target_model_name">;
  readonly rewrites: Counter<"model_rewrite_name" | "model_name" | "target_model">;
  readonly ttft: Histogram<"model_name" | "target_model_name">;
  readonly tpot: Histogram<"model_name" | "target_model_name">;
  readonly ntpot: Histogram<"model_name" | "target_model_name">;
  readonly requestSizes: Histogram<"model_name" | "target_model_name">;
  readonly responseSizes: Histogram<"model_name" | "target_model_name">;
  readonly inputTokens: Histogram<"model_name" | "target_model_name">;
  readonly outputTokens: Histogram<"model_name" | "target_model_name">;
}

const DURATION_BUCKETS = [
  0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60, 120,
  180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600,
];

const TTFT_BUCKETS = [
  0.001, 0.002, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80,
  160, 640, 2560,
];
const TPOT_BUCKETS = [
  0.0005, 0.00205, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.125, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1,
  1.5, 2, 3, 4.5, 6, 12, 18, 24, 30, 36, 48, 60, 120, 180, 240, 300, 360, 480, 600,
];
const SIZE_BUCKETS = [
  64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288, 1048576, 2097152,
  4194304, 8388608, 16777216, 33554432, 67108864, 134217728, 268435456, 536870912, 1073741824,
];
const TOKEN_BUCKETS = [
  1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32778, 65536, 131072, 262144, 524288,
  1048576,
];

export function createGatewayMetrics(maxModelLabels = 100): GatewayMetrics {
  const registry = new Registry();
  const labels = ["model_name", "target_model_name"] as const;
  const histogram = (name: string, help: string, buckets: number[]) =>
    new Histogram({ name, help, labelNames: labels, buckets, registers: [registry] });
  return {
    registry,
    labels: new ModelLabelCap(maxModelLabels),
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
    ttft: histogram(
      "inference_objective_request_ttft_seconds",
      "Inference objective time to first token in seconds (queueing included).",
      TTFT_BUCKETS,
    ),
    tpot: histogram(
      "inference_objective_request_tpot_seconds",
      "Inference objective time per output token in seconds, after the first.",
      TPOT_BUCKETS,
    ),
    ntpot: histogram(
      "inference_objective_normalized_time_per_output_token_seconds",
      "Inference objective end-to-end latency divided by output tokens, in seconds.",
      TPOT_BUCKETS,
    ),
    requestSizes: histogram(
      "inference_objective_request_sizes",
      "Inference objective request size distribution in bytes.",
      SIZE_BUCKETS,
    ),
    responseSizes: histogram(
      "inference_objective_response_sizes",
      "Inference objective response size distribution in bytes.",
      SIZE_BUCKETS,
    ),
    inputTokens: histogram(
      "inference_objective_input_tokens",
      "Inference objective input token count distribution.",
      TOKEN_BUCKETS,
    ),
    outputTokens: histogram(
      "inference_objective_output_tokens",
      "Inference objective output token count distribution.",
      TOKEN_BUCKETS,
    ),
  };
}
