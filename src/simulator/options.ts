/**
 * Options of a simulated vLLM pod and the latency model they drive.
 *
 * TTFT   = (prefillOverheadMs + (promptTokens - cachedTokens) * prefillMsPerToken) * k
 * decode = (outputTokens - 1) steps of interTokenMs * k each
 * k      = load * jitter * timeScale, drawn afresh for every step, where
 * load   = 1 + (timeFactorMax - 1) * (running - 1) / (maxNumSeqs - 1)   (1 when maxNumSeqs = 1)
 * jitter = max(0, 1 + jitter * N(0, 1))
 */
import { type Clock, type Random, type SetTimer, systemClock, systemRandom, systemTimer } from "../clock.ts";
import { checkKvEventsConfig, type KvEventsConfig } from "./kv-events.ts";

export interface SimulatorOptions {
  /** Base model name, also the `model_name` label of every metric. */
  model: string;
  /** LoRA adapter names, each served as its own model name. */
  loras?: string[];
  /** Adapters that may be active among running requests at once (vLLM `--max-loras`). */
  maxLoras?: number;
  /** At most this many requests run; the rest wait FIFO (vLLM `--max-num-seqs`). */
  maxNumSeqs?: number;
  /** Tokens per KV block. */
  blockSize?: number;
  /** Total KV blocks; also the prefix cache capacity in block hashes. */
  numGpuBlocks?: number;
  /** Longest prompt + output, in tokens. */
  maxModelLen?: number;
  prefillOverheadMs?: number;
  /** Prefill time per uncached prompt token. */
  prefillMsPerToken?: number;
  /** Decode time per output token after the first. */
  interTokenMs?: number;
  /** Latency multiplier reached with maxNumSeqs running; grows linearly from 1. */
  timeFactorMax?: number;
  /** Standard deviation of the Gaussian jitter, as a fraction; 0 disables. */
  jitter?: number;
  /** Multiplies every simulated duration: 0.01 runs 100x faster. */
  timeScale?: number;
  /** Output length when the request sets no max_tokens; unset = uniform in [16, 128]. */
  defaultMaxTokens?: number;
  random?: Random;
  clock?: Clock;
  /** Schedules the simulator's waits (prefill, decode steps, a fault's `delayMs`); tests pass fake timers. Default: real timers. */
  setTimer?: SetTimer;
  /** Also publish `vllm:gpu_cache_usage_perc`, as vLLM before v0.10 did. */
  legacyKvMetric?: boolean;
  /**
   * What the pod runs, as vLLM's `--runner`: "generate" (chat, completions, responses,
   * messages, transcriptions) or "pooling" (embeddings, score, rerank). Both tokenize.
   * A request for the other kind is a 400, as vLLM answers. Default "generate".
   */
  runner?: Runner;
  /** Length of the pooling model's embedding vectors (its hidden size); default 384. */
  embeddingSize?: number;
  /** Responses kept for `previous_response_id` and GET /v1/responses/{id}, least recently used dropped first; default 1000. */
  maxStoredResponses?: number;
  /** Publish KV-cache events as vLLM's `--kv-events-config` (kv-events.ts); null/absent = off. */
  kvEventsConfig?: KvEventsConfig | null;
}

/** vLLM's `--runner`: a generation model or a pooling (embedding, score, rerank) model. */
export type Runner = "generate" | "pooling";

export type ResolvedOptions = Required<Omit<SimulatorOptions, "defaultMaxTokens">> & {
  defaultMaxTokens: number | undefined;
};

/** Fills defaults and rejects values the engine cannot run with, naming the field. */
export function resolveOptions(opts: SimulatorOptions): ResolvedOptions {
  const r: ResolvedOptions = {
    model: opts.model,
    loras: opts.loras ?? [],
    maxLoras: opts.maxLoras ?? 4,
    maxNumSeqs: opts.maxNumSeqs ?? 5,
    blockSize: opts.blockSize ?? 16,
    numGpuBlocks: opts.numGpuBlocks ?? 2048,
    maxModelLen: opts.maxModelLen ?? 8192,
    prefillOverheadMs: opts.prefillOverheadMs ?? 20,
    prefillMsPerToken: opts.prefillMsPerToken ?? 0.2,
    interTokenMs: opts.interTokenMs ?? 20,
    timeFactorMax: opts.timeFactorMax ?? 2,
    jitter: opts.jitter ?? 0.05,
    timeScale: opts.timeScale ?? 1,
    defaultMaxTokens: opts.defaultMaxTokens,
    random: opts.random ?? systemRandom,
    clock: opts.clock ?? systemClock,
    setTimer: opts.setTimer ?? systemTimer,
    legacyKvMetric: opts.legacyKvMetric ?? false,
    runner: opts.runner ?? "generate",
    embeddingSize: opts.embeddingSize ?? 384,
    maxStoredResponses: opts.maxStoredResponses ?? 1000,
    kvEventsConfig: opts.kvEventsConfig ?? null,
  };
  if (!r.model) throw new Error("simulator: `model` must be a non-empty string");
  if (r.runner !== "generate" && r.runner !== "pooling") {
    throw new Error(`simulator: \`runner\` must be "generate" or "pooling", got ${JSON.stringify(r.runner)}`);
  }
  const positive = [
    "maxNumSeqs",
    "blockSize",
    "numGpuBlocks",
    "maxModelLen",
    "maxLoras",
    "embeddingSize",
  ] as const;
  for (const key of positive) {
    if (!Number.isInteger(r[key]) || r[key] < 1) {
      throw new Error(`simulator: \`${key}\` must be an integer >= 1, got ${r[key]}`);
    }
  }
  if (!(Number.isInteger(r.maxStoredResponses) && r.maxStoredResponses >= 0)) {
    throw new Error(`simulator: \`maxStoredResponses\` must be an integer >= 0, got ${r.maxStoredResponses}`);
  }
  const nonNegative = [
    "prefillOverheadMs",
    "prefillMsPerToken",
    "interTokenMs",
    "jitter",
    "timeScale",
  ] as const;
  for (const key of nonNegative) {
    if (!(r[key] >= 0)) throw new Error(`simulator: \`${key}\` must be >= 0, got ${r[key]}`);
  }
  if (!(r.timeFactorMax >= 1)) throw new Error(`simulator: \`timeFactorMax\` must be >= 1`);
  if (
    r.defaultMaxTokens !== undefined &&
    !(Number.isInteger(r.defaultMaxTokens) && r.defaultMaxTokens >= 1)
  ) {
    throw new Error("simulator: `defaultMaxTokens` must be an integer >= 1");
  }
  if (r.kvEventsConfig) checkKvEventsConfig(r.kvEventsConfig);
  if (r.loras.includes(r.model)) throw new Error(`simulator: LoRA name "${r.model}" equals the base model`);
  return r;
}

/** Load multiplier with `running` requests in the batch (including the one being timed). */
export function loadFactor(
  running: number,
  o: Pick<ResolvedOptions, "maxNumSeqs" | "timeFactorMax">,
): number {
  if (o.maxNumSeqs <= 1) return 1;
  const frac = Math.min(1, Math.max(0, (running - 1) / (o.maxNumSeqs - 1)));
  return 1 + (o.timeFactorMax - 1) * frac;
}

/** Multiplicative jitter `max(0, 1 + std * z)`, z standard normal (Box-Muller). */
export function jitterFactor(std: number, random: Random): number {
  if (std === 0) return 1;
  const u1 = 1 - random();
  const u2 = random();
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  return Math.max(0, 1 + std * z);
}
