/**
 * Histogram buckets exactly as upstream declares them, so `histogram_quantile` over our
 * series and over GIE's / llm-d's gives the same answers on the same dashboards.
 * Sources: GIE v1.5.0 `pkg/epp/metrics/metrics.go`; llm-d-router v0.10
 * `pkg/epp/metrics/llm_d_router_metrics.go` (see docs/metrics.md).
 */

/** `generalLatencyBuckets`: request duration (and GIE's TTFT), 5 ms to 1 h. */
export const GENERAL_LATENCY = [
  0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60, 120,
  180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600,
];

/** GIE's `TPOTBuckets`. */
export const TPOT = [
  0.0005, 0.00205, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.125, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1,
  1.5, 2, 3, 4.5, 6, 12, 18, 24, 30, 36, 48, 60, 90, 120, 180, 270, 360,
];

/** Normalized time per output token. */
export const NTPOT = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10];

/** Request body sizes, 64 B to 1 GiB. */
export const REQUEST_SIZE = [
  64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288, 1048576, 2097152,
  4194304, 8388608, 16777216, 33554432, 67108864, 134217728, 268435456, 536870912, 1073741824,
];

/** Response body sizes (upstream's 32778 is theirs, kept as is). */
export const RESPONSE_SIZE = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32778, 65536];

/** Input and cached-prompt token counts, up to a 1M-token context. */
export const INPUT_TOKENS = [
  1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32778, 65536, 131072, 262144, 524288,
  1048576,
];

/** Output token counts. */
export const OUTPUT_TOKENS = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192];

/** Scheduler, plugin, enqueue and dispatch-cycle durations: 100 µs to 100 ms. */
export const FAST_PATH = [0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1];

/** Time spent in flow control, from enqueue to outcome. */
export const QUEUE_DURATION = [
  0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** Prefix index hit ratio per lookup. */
export const HIT_RATIO = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

/** Prefix match length per lookup, in bytes. */
export const HIT_BYTES = [0, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536];

/** llm-d's `request_ttft_seconds`: 5 ms to 2 min. */
export const LLMD_TTFT = [
  0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60, 120,
];

/** llm-d's `request_streaming_tpot_seconds`. */
export const LLMD_STREAMING_TPOT = [
  0.0005, 0.00205, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.125, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1, 2,
];
