/**
 * What the gateway knows about one model-server endpoint (one port of one pod).
 * Request-path readers only ever see immutable values; the data layer replaces a
 * snapshot wholesale instead of mutating it.
 */

/** LoRA state as the engine reports it (vLLM: `vllm:lora_requests_info`, newest series). */
export interface LoraState {
  maxLoras: number;
  running: readonly string[];
  waiting: readonly string[];
}

/** KV-cache geometry (vLLM: `vllm:cache_config_info{block_size,num_gpu_blocks}`). */
export interface CacheConfig {
  /** Tokens per KV block. */
  blockSize: number;
  numBlocks: number;
}

/** One scrape of an endpoint's `/metrics`, mapped to engine-neutral names. Immutable. */
export interface MetricsSnapshot {
  waitingQueueSize: number;
  runningRequests: number;
  /** Fraction of KV-cache in use, 0..1. */
  kvCacheUsage: number;
  lora?: LoraState;
  cache?: CacheConfig;
  /** Clock time (ms) of the scrape; 0 = never scraped. */
  updatedAt: number;
}

export const EMPTY_METRICS: MetricsSnapshot = Object.freeze({
  waitingQueueSize: 0,
  runningRequests: 0,
  kvCacheUsage: 0,
  updatedAt: 0,
});

/**
 * How the scraping of one endpoint is going, beside its last good snapshot: what tells a
 * scrape that is merely late from a pod that stopped answering. Immutable; the scraper
 * replaces it when a scrape starts and when one ends.
 */
export interface ScrapeStatus {
  /** Clock ms when the scrape now in flight started; undefined when none is. */
  readonly inFlightSince: number | undefined;
  /** Clock ms after which that scrape is late (start + `scrapeTimeoutMs`); it is abandoned later. */
  readonly lateAt: number | undefined;
  /** Consecutive failed scrapes (error, non-2xx, abandoned); 0 after a success. */
  readonly failures: number;
}

/** Model-server engine names known out of the box; users may add more in config. */
export type EngineName = "vllm" | "sglang" | "trtllm-serve" | "triton" | (string & {});

export interface Endpoint {
  /** Stable id, e.g. `pod-name:8000` or the configured name. */
  readonly name: string;
  /** `host:port` the proxy connects to. */
  readonly address: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly engine: EngineName;
  /** Base models and LoRA adapters this endpoint serves (from config or its /v1/models). */
  readonly models: ReadonlySet<string>;
  /** Latest metrics; replaced atomically by the data layer. */
  readonly metrics: MetricsSnapshot;
  /** Scrape progress; absent until the scraper first reports (then freshness is judged by age alone). */
  readonly scrape?: ScrapeStatus;
}
