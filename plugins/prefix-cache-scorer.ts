/**
 * prefix-cache-scorer: prefer endpoints that probably hold the request's prompt prefix
 * in their KV cache (the approximate prefix index, src/scheduling/prefix/).
 *
 *   score(e) = matched blocks(e) / total blocks     (0 for all when the prompt has no full block)
 *            = 0 when e is saturated: waiting queue >= saturationQueueDepth and either KV
 *              usage >= saturationKvCacheUtil or less prefill pending on e than the
 *              prompt's tokens, while another candidate is not ("sticky until saturated")
 *
 * Inputs: the request's prefix match (plugins/prefix-match.ts, shared with the other
 * prefix plugins) and the candidates' assumed load. Sets NEW_PREFIX for pickers when no
 * candidate holds the prompt's distinctive block (a preamble every prompt shares does
 * not make a prompt known). In PreRequest every block is recorded on the primary, with
 * the primary's KV capacity as its index bound (applied once the request is on its way,
 * before anything reads the index again: `PrefixIndex.recordLater`), and its
 * uncached tokens count as pending prefill there until the answer starts; the primary's
 * match feeds the index's hit ratio. When a fallback answered instead (ResponseReceived
 * with another endpoint), the blocks are recorded on that endpoint too.
 *
 * Parameters:
 * - `blockSize` or `blockSizeTokens` (GIE v1.5's name; tokens, default 16): block =
 *   blockSize x 4 characters.
 * - `prefixMatchInfoProducerName` (llm-d v0.10): an approx-prefix-cache-producer whose
 *   block size, window, LRU capacity and autoTune are used instead (default: the
 *   config's only one).
 * - `autoTune` (default true): use the candidates' engine block size
 *   (`metrics.cache.blockSize`, the most common one, smaller one on a tie) when known,
 *   but never below 16 tokens (SGLang's page_size 1 would shrink the window to 1 KB of
 *   prompt); and size each endpoint's index from the KV capacity it reports
 *   (num_gpu_blocks x block_size tokens), as llm-d's autoTune does.
 * - `hashBlockSize` (characters; GIE's older name): when set, fixes the block size in
 *   characters and disables autoTune.
 * - `maxPrefixBlocksToMatch` (default 256): blocks beyond are ignored.
 * - `lruCapacityPerServer` (default 31,250): index entries per endpoint when it reports
 *   no KV capacity (or autoTune is off).
 * - `saturationQueueDepth`, `saturationKvCacheUtil` (gateway extensions, default 5 and
 *   0.8 = GIE's queueDepthThreshold and kvCacheUtilThreshold; depth 0 = never spill):
 *   see the formula and `saturatedOf`.
 */
import * as v from "valibot";
import type { Endpoint } from "../src/endpoints/types.ts";
import { madeLoads } from "../src/scheduling/framework/context.ts";
import {
  NEW_PREFIX,
  type PreRequest,
  type ResponseComplete,
  type ResponseReceived,
  type SchedulingContext,
  type Scorer,
  stateKey,
} from "../src/scheduling/framework/interfaces.ts";
import { MIXED_BLOCK_SIZES } from "../src/scheduling/framework/load.ts";
import {
  ParameterError,
  type PluginDefinition,
  type PluginDeps,
  withParameters,
} from "../src/scheduling/framework/registry.ts";
import {
  CHARS_PER_TOKEN,
  DEFAULT_BLOCK_TOKENS,
  DEFAULT_MAX_BLOCKS,
} from "../src/scheduling/prefix/hashes.ts";
import { DEFAULT_LRU_CAPACITY_PER_SERVER, type PrefixIndex } from "../src/scheduling/prefix/prefix-index.ts";
import { commonBlockSize, isPrefixProducer } from "./approx-prefix-cache-producer.ts";
import { preciseScorerNamed } from "./precise-prefix-cache.ts";

export { commonBlockSize };

import { capacityOf, currentMatch, prefixMatch, recordPick, settlePending } from "./prefix-match.ts";

export const PREFIX_CACHE_SCORER = "prefix-cache-scorer";

/** GIE's saturation detector's default `queueDepthThreshold`: a pod this far behind is saturated. */
export const DEFAULT_SATURATION_QUEUE_DEPTH = 5;

const PositiveInt = v.pipe(v.number(), v.integer(), v.minValue(1));

export const PrefixCacheParameters = v.strictObject({
  blockSize: v.optional(v.pipe(PositiveInt, v.maxValue(4096)), DEFAULT_BLOCK_TOKENS),
  /** GIE v1.5's name for `blockSize` (tokens); wins when both are set. */
  blockSizeTokens: v.optional(v.pipe(PositiveInt, v.maxValue(4096))),
  /** llm-d v0.10: the approx-prefix-cache-producer whose settings to use (default: the only one). */
  prefixMatchInfoProducerName: v.optional(v.pipe(v.string(), v.minLength(1))),
  autoTune: v.optional(v.boolean(), true),
  hashBlockSize: v.optional(v.pipe(PositiveInt, v.maxValue(16384))),
  maxPrefixBlocksToMatch: v.optional(v.pipe(PositiveInt, v.maxValue(65536)), DEFAULT_MAX_BLOCKS),
  lruCapacityPerServer: v.optional(PositiveInt, DEFAULT_LRU_CAPACITY_PER_SERVER),
  /** Gateway extensions (no upstream names): when a holder's credit is withheld; depth 0 = never. */
  saturationQueueDepth: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(0)),
    DEFAULT_SATURATION_QUEUE_DEPTH,
  ),
  saturationKvCacheUtil: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1)), 0.8),
});
export type PrefixCacheParameters = v.InferOutput<typeof PrefixCacheParameters>;

export function prefixCacheScorer(opts: {
  name?: string;
  index: PrefixIndex;
  params?: Partial<PrefixCacheParameters>;
}): Scorer & PreRequest & ResponseReceived & ResponseComplete {
  const p = { ...v.parse(PrefixCacheParameters, {}), ...opts.params };
  const { index } = opts;
  const recordedOn = stateKey<string>(`${PREFIX_CACHE_SCORER}/recorded-on`);
  /** `score`'s result, reused across calls of the same candidate count (see `Scorer.score`). */
  let scores = new Float64Array(0);

  function blockChars(ctx: SchedulingContext, endpoints: readonly Endpoint[]): number {
    if (p.hashBlockSize !== undefined) return p.hashBlockSize;
    const tuned = p.autoTune ? blockSizeOf(ctx, endpoints) : undefined;
    const tokens = tuned === undefined ? p.blockSize : Math.max(tuned, DEFAULT_BLOCK_TOKENS);
    return tokens * CHARS_PER_TOKEN;
  }
  const capacity = (e: Endpoint, chars: number) =>
    capacityOf(e, {
      blockChars: chars,
      autoTune: p.autoTune && p.hashBlockSize === undefined,
      fallback: p.lruCapacityPerServer,
    });

  return {
    type: PREFIX_CACHE_SCORER,
    name: opts.name ?? PREFIX_CACHE_SCORER,
    score(ctx, endpoints) {
      const m = prefixMatch(
        ctx,
        index,
        { blockChars: blockChars(ctx, endpoints), maxBlocks: p.maxPrefixBlocksToMatch },
        endpoints,
      );
      ctx.set(NEW_PREFIX, m.isNew);
      const total = m.hashes.count;
      // The last call's array when the candidate count is the same (see `Scorer.score`).
      if (scores.length !== endpoints.length) scores = new Float64Array(endpoints.length);
      if (total === 0 || m.matches.size === 0) {
        for (let i = 0; i < scores.length; i++) scores[i] = 0;
        return scores;
      }
      const saturated = saturatedOf(ctx, endpoints, {
        depth: p.saturationQueueDepth,
        kvUtil: p.saturationKvCacheUtil,
        pending: (e) => index.pendingTokens(e.name),
        promptTokens: m.promptTokens,
      });
      for (let i = 0; i < endpoints.length; i++)
        scores[i] = saturated?.[i] === 1 ? 0 : (m.matches.get(endpoints[i]!.name) ?? 0) / total;
      return scores;
    },
    preRequest(ctx, endpoints) {
      const primary = endpoints[0];
      const m = currentMatch(ctx);
      if (primary === undefined || m === undefined || m.hashes.count === 0) return;
      recordPick(ctx, index, primary, capacity(primary, m.blockChars));
      index.recordHit(m.matches.get(primary.name) ?? 0, m.hashes.count);
      ctx.set(recordedOn, primary.name);
    },
    responseReceived(ctx, { endpoint }) {
      settlePending(ctx, index, "received", endpoint);
      const m = currentMatch(ctx);
      const recorded = ctx.get(recordedOn);
      if (m === undefined || recorded === undefined || recorded === endpoint.name) return;
      index.record(endpoint.name, m.hashes.keys, capacity(endpoint, m.blockChars));
    },
    responseComplete(ctx) {
      settlePending(ctx, index, "complete");
    },
  };
}

/** `commonBlockSize(endpoints)`, from the load columns' pass when this decision made them. */
function blockSizeOf(ctx: SchedulingContext, endpoints: readonly Endpoint[]): number | undefined {
  const made = madeLoads(ctx, endpoints);
  if (made === undefined || made.blockSize === MIXED_BLOCK_SIZES) return commonBlockSize(endpoints);
  return made.blockSize;
}

/**
 * Sticky until saturated: the endpoints whose prefix credit is withheld because they are
 * saturated while another candidate is not. Saturated = a waiting queue (scraped plus
 * what this gateway sent since) of at least `depth`, and either a KV cache at least
 * `kvUtil` full (GIE's two thresholds) or less prefill pending there than this prompt's
 * own tokens (the queue is not one long prefill: the pod is out of sequences). Such a
 * holder then competes on load alone, so a hot prefix spills to a second pod, which
 * caches it too, and comes back once the holder drains. A queue behind one long prefill
 * is not saturation: spilling the short prompts queued behind it (a cold prefill
 * elsewhere, which queues that pod in turn) cascaded, measured p50 TTFT 693 ms instead
 * of 44 ms at 32 req/s. Returned as a flag per candidate (1 = saturated), undefined
 * when none is, when `depth` is 0 (never spill) or when every candidate is saturated.
 */
function saturatedOf(
  ctx: SchedulingContext,
  endpoints: readonly Endpoint[],
  o: { depth: number; kvUtil: number; pending: (e: Endpoint) => number; promptTokens: number },
): Uint8Array | undefined {
  if (o.depth <= 0 || endpoints.length < 2) return undefined;
  let over: Uint8Array | undefined;
  let count = 0;
  const { waiting, kvUsage } = ctx.loads(endpoints);
  for (let i = 0; i < endpoints.length; i++) {
    const e = endpoints[i]!;
    if (waiting[i]! >= o.depth && (kvUsage[i]! >= o.kvUtil || o.pending(e) < o.promptTokens)) {
      over ??= new Uint8Array(endpoints.length);
      over[i] = 1;
      count++;
    }
  }
  return count === endpoints.length ? undefined : over;
}

/**
 * The settings a scorer uses: a producer's (named by `prefixMatchInfoProducerName`, or
 * the config's only approx-prefix-cache-producer) over the scorer's own parameters.
 */
function withProducer(params: PrefixCacheParameters, deps: PluginDeps): PrefixCacheParameters {
  const own = { ...params, blockSize: params.blockSizeTokens ?? params.blockSize };
  const producers = [...(deps.producers?.values() ?? [])].filter(isPrefixProducer);
  const wanted = params.prefixMatchInfoProducerName;
  const producer = wanted
    ? producers.find((p) => p.name === wanted)
    : producers.length === 1
      ? producers[0]
      : undefined;
  if (wanted && !producer)
    throw new ParameterError(
      "prefixMatchInfoProducerName",
      `the name of an approx-prefix-cache-producer or precise-prefix-cache-producer in plugins (defined: ${producers.map((p) => p.name).join(", ") || "none"})`,
      JSON.stringify(wanted),
    );
  if (!producer) return own;
  const s = producer.prefixSettings;
  return {
    ...own,
    blockSize: s.blockSizeTokens,
    maxPrefixBlocksToMatch: s.maxPrefixBlocksToMatch,
    lruCapacityPerServer: s.lruCapacityPerServer,
    autoTune: s.autoTune,
  };
}

export const prefixCacheScorerPlugin: PluginDefinition = {
  type: PREFIX_CACHE_SCORER,
  factory: withParameters(
    PrefixCacheParameters,
    (name, params, deps) =>
      // Naming a precise producer (llm-d's split pipeline): score by what the pods report holding.
      preciseScorerNamed(params.prefixMatchInfoProducerName, deps, PREFIX_CACHE_SCORER, name) ??
      prefixCacheScorer({ name, index: deps.prefixIndex, params: withProducer(params, deps) }),
  ),
};
