/**
 * Prometheus text exposition (format 0.0.4) of a simulated vLLM pod, written by hand.
 * Names, labels and histogram buckets follow vLLM v1 (`vllm/v1/metrics/loggers.py`):
 * every series carries `model_name="<base model>"`, except `vllm:lora_requests_info`,
 * whose value is the Unix time in seconds of the snapshot (the newest series wins).
 * Durations are measured on the injected clock, so with `timeScale` < 1 they are the
 * scaled (real) durations a gateway would also observe.
 */

export type FinishReason = "stop" | "length" | "abort";

export const TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640,
  2560,
];
export const E2E_BUCKETS = [
  0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680,
];

/** A cumulative Prometheus histogram. */
export class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly buckets: readonly number[]) {
    this.counts = buckets.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) this.counts[i]!++;
  }
}

/** What an engine accumulates for /metrics: token and request counters, histograms. */
export class EngineCounters {
  readonly ttft = new Histogram(TTFT_BUCKETS);
  readonly e2e = new Histogram(E2E_BUCKETS);
  readonly success: Record<FinishReason, number> = { stop: 0, length: 0, abort: 0 };
  promptTokens = 0;
  generationTokens = 0;
  /** In tokens, like vLLM: every prompt token looked up, and those found cached. */
  prefixQueries = 0;
  prefixHits = 0;
}

export interface MetricsState {
  model: string;
  running: number;
  waiting: number;
  /** 0..1 */
  kvUsage: number;
  legacyKvMetric: boolean;
  blockSize: number;
  numGpuBlocks: number;
  /** Absent when the pod serves no adapters (vLLM then omits the series). */
  lora: { maxLoras: number; running: readonly string[]; waiting: readonly string[] } | undefined;
  counters: EngineCounters;
  /** Wall-clock Unix time, seconds. */
  nowSeconds: number;
}

type Labels = Record<string, string>;

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function formatLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(v);
}

/**
 * The exposition's lines; with `names`, only those samples, each family's HELP and TYPE
 * written before its first kept sample (as prometheus_client's restricted registry answers
 * `?name[]=…`, which vLLM's /metrics serves).
 */
class Writer {
  readonly lines: string[] = [];
  private header: string[] = [];

  constructor(private readonly names?: ReadonlySet<string>) {}

  family(name: string, type: "gauge" | "counter" | "histogram", help: string): this {
    this.header = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
    return this;
  }

  sample(name: string, labels: Labels, value: number): this {
    if (this.names !== undefined && !this.names.has(name)) return this;
    this.lines.push(...this.header);
    this.header = [];
    this.lines.push(`${name}${formatLabels(labels)} ${formatValue(value)}`);
    return this;
  }

  histogram(name: string, labels: Labels, h: Histogram): this {
    h.buckets.forEach((le, i) => {
      this.sample(`${name}_bucket`, { ...labels, le: formatValue(le) }, h.counts[i]!);
    });
    this.sample(`${name}_bucket`, { ...labels, le: "+Inf" }, h.count);
    this.sample(`${name}_sum`, labels, h.sum);
    return this.sample(`${name}_count`, labels, h.count);
  }
}

/** Renders the `/metrics` body: the whole of it, or with `names` only those samples. */
export function renderMetrics(s: MetricsState, names?: ReadonlySet<string>): string {
  const c = s.counters;
  const m = { model_name: s.model };
  const w = new Writer(names);
  w.family("vllm:num_requests_running", "gauge", "Number of requests in model execution batches.");
  w.sample("vllm:num_requests_running", m, s.running);
  w.family("vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.");
  w.sample("vllm:num_requests_waiting", m, s.waiting);
  w.family("vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.");
  w.sample("vllm:kv_cache_usage_perc", m, s.kvUsage);
  if (s.legacyKvMetric) {
    w.family("vllm:gpu_cache_usage_perc", "gauge", "GPU KV-cache usage. 1 means 100 percent usage.");
    w.sample("vllm:gpu_cache_usage_perc", m, s.kvUsage);
  }
  w.family(
    "vllm:prefix_cache_queries_total",
    "counter",
    "Prefix cache queries, in terms of number of queried tokens.",
  );
  w.sample("vllm:prefix_cache_queries_total", m, c.prefixQueries);
  w.family(
    "vllm:prefix_cache_hits_total",
    "counter",
    "Prefix cache hits, in terms of number of cached tokens.",
  );
  w.sample("vllm:prefix_cache_hits_total", m, c.prefixHits);
  w.family("vllm:cache_config_info", "gauge", "Information of the LLMEngine CacheConfig");
  w.sample(
    "vllm:cache_config_info",
    { block_size: String(s.blockSize), num_gpu_blocks: String(s.numGpuBlocks), ...m },
    1,
  );
  if (s.lora) {
    w.family("vllm:lora_requests_info", "gauge", "Running stats on lora requests.");
    w.sample(
      "vllm:lora_requests_info",
      {
        max_lora: String(s.lora.maxLoras),
        running_lora_adapters: s.lora.running.join(","),
        waiting_lora_adapters: s.lora.waiting.join(","),
      },
      s.nowSeconds,
    );
  }
  w.family("vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.");
  w.sample("vllm:prompt_tokens_total", m, c.promptTokens);
  w.family("vllm:generation_tokens_total", "counter", "Number of generation tokens processed.");
  w.sample("vllm:generation_tokens_total", m, c.generationTokens);
  w.family("vllm:request_success_total", "counter", "Count of successfully processed requests.");
  for (const reason of ["stop", "length", "abort"] as const) {
    w.sample("vllm:request_success_total", { ...m, finished_reason: reason }, c.success[reason]);
  }
  w.family("vllm:time_to_first_token_seconds", "histogram", "Histogram of time to first token in seconds.");
  w.histogram("vllm:time_to_first_token_seconds", m, c.ttft);
  w.family("vllm:e2e_request_latency_seconds", "histogram", "Histogram of e2e request latency in seconds.");
  w.histogram("vllm:e2e_request_latency_seconds", m, c.e2e);
  return w.lines.length === 0 ? "" : `${w.lines.join("\n")}\n`;
}
