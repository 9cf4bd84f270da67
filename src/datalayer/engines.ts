/**
 * Engine metric mappings, as data: which Prometheus series of a model server mean
 * "waiting", "running", "KV-cache usage", LoRA state and KV-cache geometry. A user adds an
 * engine (llama.cpp, a fork, a renamed build) in config, without code.
 *
 * Resolution rules, applied by `toSnapshot`:
 * - A field lists metric refs; the FIRST ref with at least one matching series wins
 *   (vLLM renamed `vllm:gpu_cache_usage_perc` to `vllm:kv_cache_usage_perc`).
 * - A ref is a name, optionally with a label selector (`{name, labels}` or the GIE spec
 *   string `name{label=value,...}`); a series matches when every selector label is equal.
 * - Several matching series (e.g. one per `model_name`, or data-parallel ranks behind one
 *   port): waiting and running are SUMMED, KV usage takes the MAX (the fullest cache is the
 *   one that preempts), and the cache geometry takes the first series. Non-finite values are ignored.
 * - KV usage is multiplied by `kvUsageScale` (default 1) and clamped to 0..1.
 * - LoRA: the series with the NEWEST value wins (vLLM's value is a timestamp); adapter lists
 *   are comma-separated, trimmed, empty = none.
 */

import type { CacheConfig, LoraState, MetricsSnapshot } from "../endpoints/types.ts";
import { type MetricRef, parseMetricRef, type Selector } from "./metric-ref.ts";
import type { Sample } from "./prom-text.ts";

export { EngineMappingSchema, EngineMappingsSchema } from "./engine-schema.ts";
export type { MetricRef } from "./metric-ref.ts";

export interface EngineMapping {
  /** Requests queued in the engine. First ref present wins; series are summed. */
  waiting: MetricRef[];
  /** Requests being decoded/prefilled. First ref present wins; series are summed. */
  running: MetricRef[];
  /** KV-cache usage (0..1 after `kvUsageScale`). First ref present wins; max over series. */
  kvUsage: MetricRef[];
  /** Multiplier for KV usage, e.g. 0.01 for an engine that reports percent. Default 1. */
  kvUsageScale?: number;
  /** Info-style gauge carrying LoRA state in labels; value = last-update timestamp. */
  lora?: MetricRef;
  /** Label names on `lora`; default vLLM's `max_lora`, `running_lora_adapters`, `waiting_lora_adapters`. */
  loraLabels?: { max: string; running: string; waiting: string };
  /** Info-style gauge carrying KV geometry in labels (vLLM, SGLang). */
  cacheInfo?: { metric: MetricRef; blockSizeLabel: string; numBlocksLabel: string };
  /** KV geometry as two plain gauges (trtllm-serve, Triton); used when `cacheInfo` yields nothing. */
  cacheGauges?: { blockSize: MetricRef[]; numBlocks: MetricRef[] };
}

export type Families = ReadonlyMap<string, readonly Sample[]>;

const VLLM_LORA_LABELS = {
  max: "max_lora",
  running: "running_lora_adapters",
  waiting: "waiting_lora_adapters",
} as const;

function deepFreeze<T>(o: T): T {
  if (typeof o === "object" && o !== null && !Object.isFrozen(o)) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

const TRITON_TRT_LLM: EngineMapping = {
  // Falls back to the generic Triton queue gauge when the TensorRT-LLM backend is absent.
  waiting: ["nv_trt_llm_request_metrics{request_type=waiting}", "nv_inference_pending_request_count"],
  running: ["nv_trt_llm_request_metrics{request_type=scheduled}"],
  kvUsage: ["nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type=fraction}"],
  cacheGauges: {
    blockSize: ["nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type=tokens_per}"],
    numBlocks: ["nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type=max}"],
  },
};

/**
 * Built-in engines, keyed by the value of the pod label `llm-d.ai/engine-type`.
 * `triton` means Triton with the TensorRT-LLM backend; `triton-tensorrt-llm` is llm-d's name for it.
 */
export const BUILTIN_ENGINES: Readonly<Record<string, EngineMapping>> = deepFreeze({
  vllm: {
    waiting: ["vllm:num_requests_waiting"],
    running: ["vllm:num_requests_running"],
    kvUsage: ["vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"],
    lora: "vllm:lora_requests_info",
    loraLabels: VLLM_LORA_LABELS,
    cacheInfo: {
      metric: "vllm:cache_config_info",
      blockSizeLabel: "block_size",
      numBlocksLabel: "num_gpu_blocks",
    },
  },
  sglang: {
    waiting: ["sglang:num_queue_reqs"],
    running: ["sglang:num_running_reqs"],
    kvUsage: ["sglang:token_usage"],
    cacheInfo: {
      metric: "sglang:cache_config_info",
      blockSizeLabel: "page_size",
      numBlocksLabel: "num_pages",
    },
  },
  "trtllm-serve": {
    waiting: ["trtllm_num_requests_waiting"],
    running: ["trtllm_num_requests_running"],
    kvUsage: ["trtllm_kv_cache_utilization"],
    cacheGauges: {
      blockSize: ["trtllm_kv_cache_tokens_per_block"],
      numBlocks: ["trtllm_kv_cache_max_blocks"],
    },
  },
  triton: TRITON_TRT_LLM,
  "triton-tensorrt-llm": TRITON_TRT_LLM,
});

/**
 * Built-ins plus user-defined engines. A user entry replaces a built-in of the same name
 * as a whole (no field-by-field merge, so what is in config is exactly what is used).
 */
export function mergeEngineMappings(
  builtin: Readonly<Record<string, EngineMapping>>,
  userDefined: Readonly<Record<string, EngineMapping>> = {},
): Record<string, EngineMapping> {
  return { ...builtin, ...userDefined };
}

// ---- compiled form, cached per mapping object -------------------------------------------

interface Compiled {
  waiting: Selector[];
  running: Selector[];
  kvUsage: Selector[];
  kvUsageScale: number;
  lora: Selector | undefined;
  loraLabels: { max: string; running: string; waiting: string };
  cacheInfo: { metric: Selector; blockSizeLabel: string; numBlocksLabel: string } | undefined;
  cacheGauges: { blockSize: Selector[]; numBlocks: Selector[] } | undefined;
  names: ReadonlySet<string>;
}

/** Keyed by identity: treat a mapping as immutable once it has been used (the built-ins are frozen). */
const compiledCache = new WeakMap<EngineMapping, Compiled>();

function compile(m: EngineMapping): Compiled {
  const hit = compiledCache.get(m);
  if (hit) return hit;
  const sel = (refs: readonly MetricRef[]) => refs.map(parseMetricRef);
  const c: Compiled = {
    waiting: sel(m.waiting),
    running: sel(m.running),
    kvUsage: sel(m.kvUsage),
    kvUsageScale: m.kvUsageScale ?? 1,
    lora: m.lora === undefined ? undefined : parseMetricRef(m.lora),
    loraLabels: m.loraLabels ?? VLLM_LORA_LABELS,
    cacheInfo: m.cacheInfo && { ...m.cacheInfo, metric: parseMetricRef(m.cacheInfo.metric) },
    cacheGauges: m.cacheGauges && {
      blockSize: sel(m.cacheGauges.blockSize),
      numBlocks: sel(m.cacheGauges.numBlocks),
    },
    names: new Set(),
  };
  const all = [c.waiting, c.running, c.kvUsage, c.cacheGauges?.blockSize, c.cacheGauges?.numBlocks].flat();
  c.names = new Set([...all, c.lora, c.cacheInfo?.metric].map((s) => s?.name ?? "").filter((n) => n !== ""));
  compiledCache.set(m, c);
  return c;
}

/** Every metric name a mapping reads: pass it to `parsePromText` as `wanted`. */
export function wantedMetrics(mapping: EngineMapping): ReadonlySet<string> {
  return compile(mapping).names;
}

// ---- extraction --------------------------------------------------------------------------

function matching(families: Families, s: Selector): Sample[] {
  const series = families.get(s.name);
  if (!series || series.length === 0) return [];
  if (s.labels.length === 0) return series as Sample[];
  return series.filter((x) => s.labels.every(([k, v]) => x.labels[k] === v));
}

/** Series of the first selector that has any. */
function firstPresent(families: Families, sels: readonly Selector[]): Sample[] {
  for (const s of sels) {
    const found = matching(families, s);
    if (found.length > 0) return found;
  }
  return [];
}

function sum(series: readonly Sample[]): number {
  let total = 0;
  for (const s of series) if (Number.isFinite(s.value)) total += s.value;
  return total;
}

function max(series: readonly Sample[]): number {
  let m = 0;
  for (const s of series) if (Number.isFinite(s.value) && s.value > m) m = s.value;
  return m;
}

function splitList(v: string | undefined): string[] {
  if (!v) return [];
  return v
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x !== "");
}

function loraState(families: Families, c: Compiled): LoraState | undefined {
  if (!c.lora) return undefined;
  let newest: Sample | undefined;
  for (const s of matching(families, c.lora)) {
    if (newest === undefined || s.value > newest.value || Number.isNaN(newest.value)) newest = s;
  }
  if (!newest) return undefined;
  const maxLoras = Number(newest.labels[c.loraLabels.max]);
  return {
    maxLoras: Number.isFinite(maxLoras) ? maxLoras : 0,
    running: splitList(newest.labels[c.loraLabels.running]),
    waiting: splitList(newest.labels[c.loraLabels.waiting]),
  };
}

function positive(v: unknown): number | undefined {
  const n = typeof v === "number" ? v : Number(v);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

function cacheConfig(families: Families, c: Compiled): CacheConfig | undefined {
  if (c.cacheInfo) {
    const { metric, blockSizeLabel, numBlocksLabel } = c.cacheInfo;
    for (const s of matching(families, metric)) {
      const blockSize = positive(s.labels[blockSizeLabel]);
      const numBlocks = positive(s.labels[numBlocksLabel]);
      if (blockSize !== undefined && numBlocks !== undefined) return { blockSize, numBlocks };
    }
  }
  if (c.cacheGauges) {
    const blockSize = positive(firstPresent(families, c.cacheGauges.blockSize)[0]?.value);
    const numBlocks = positive(firstPresent(families, c.cacheGauges.numBlocks)[0]?.value);
    if (blockSize !== undefined && numBlocks !== undefined) return { blockSize, numBlocks };
  }
  return undefined;
}

/** Maps one parsed scrape to an engine-neutral, frozen snapshot stamped `now`. */
export function toSnapshot(families: Families, mapping: EngineMapping, now: number): MetricsSnapshot {
  const c = compile(mapping);
  const kv = max(firstPresent(families, c.kvUsage)) * c.kvUsageScale;
  const snapshot: MetricsSnapshot = {
    waitingQueueSize: sum(firstPresent(families, c.waiting)),
    runningRequests: sum(firstPresent(families, c.running)),
    kvCacheUsage: Math.min(1, Math.max(0, kv)),
    updatedAt: now,
  };
  const lora = loraState(families, c);
  if (lora) snapshot.lora = Object.freeze(lora);
  const cache = cacheConfig(families, c);
  if (cache) snapshot.cache = Object.freeze(cache);
  return Object.freeze(snapshot);
}

/**
 * Which core fields (`waiting`, `running`, `kvUsage`) found no series at all. When all
 * three are missing the endpoint is probably not the engine it is labelled as.
 */
export function missingMetrics(families: Families, mapping: EngineMapping): string[] {
  const c = compile(mapping);
  const missing: string[] = [];
  if (firstPresent(families, c.waiting).length === 0) missing.push("waiting");
  if (firstPresent(families, c.running).length === 0) missing.push("running");
  if (firstPresent(families, c.kvUsage).length === 0) missing.push("kvUsage");
  return missing;
}
