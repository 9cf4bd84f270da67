/**
 * prefix-cache-scorer: prefer endpoints that probably hold the request's prompt prefix
 * in their KV cache (the approximate prefix index, src/scheduling/prefix/).
 *
 *   score = matched blocks / total blocks    (0 for all when the prompt has no full block)
 *
 * Inputs: the prompt's chained block hashes (`ctx.prefixHashes`, shared with other
 * plugins) and the pool's prefix index. Sets NEW_PREFIX for pickers when no candidate
 * holds any block. Before the request is sent (PreRequest) every block of the request
 * is recorded on the primary endpoint, and the primary's match feeds the index's hit
 * ratio. When a fallback answered instead (ResponseReceived with another endpoint), the
 * blocks are recorded on that endpoint too: its cache holds them now.
 *
 * Parameters:
 * - `blockSize` or `blockSizeTokens` (GIE v1.5's name; tokens, default 16): block =
 *   blockSize x 4 characters.
 * - `prefixMatchInfoProducerName` (llm-d v0.10): an approx-prefix-cache-producer whose
 *   block size, window and LRU capacity are used instead (default: the config's only one).
 * - `autoTune` (default true): use the candidates' engine block size
 *   (`metrics.cache.blockSize`, the most common one, smaller one on a tie) when known,
 *   but never below 16 tokens: engines with tiny pages (SGLang's page_size 1) would
 *   otherwise shrink the matched window to 1 KB of prompt.
 * - `hashBlockSize` (characters; GIE's older name): when set, fixes the block size in
 *   characters and disables autoTune.
 * - `maxPrefixBlocksToMatch` (default 256): blocks beyond are ignored.
 * - `lruCapacityPerServer` (default 31,250): index entries kept per endpoint.
 */
import * as v from "valibot";
import type { Endpoint } from "../src/endpoints/types.ts";
import {
  NEW_PREFIX,
  type PreRequest,
  type ResponseReceived,
  type Scorer,
  stateKey,
} from "../src/scheduling/framework/interfaces.ts";
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
  type PrefixHashes,
} from "../src/scheduling/prefix/hashes.ts";
import { DEFAULT_LRU_CAPACITY_PER_SERVER, type PrefixIndex } from "../src/scheduling/prefix/prefix-index.ts";
import { isPrefixProducer } from "./approx-prefix-cache-producer.ts";

export const PREFIX_CACHE_SCORER = "prefix-cache-scorer";

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
});
export type PrefixCacheParameters = v.InferOutput<typeof PrefixCacheParameters>;

/** The most common engine block size among `endpoints` (smaller on a tie), if any reports one. */
export function commonBlockSize(endpoints: readonly Endpoint[]): number | undefined {
  const counts = new Map<number, number>();
  for (const e of endpoints) {
    const b = e.metrics.cache?.blockSize;
    if (b !== undefined && b > 0) counts.set(b, (counts.get(b) ?? 0) + 1);
  }
  let best: number | undefined;
  let bestCount = 0;
  for (const [b, n] of counts) {
    if (n > bestCount || (n === bestCount && best !== undefined && b < best)) {
      best = b;
      bestCount = n;
    }
  }
  return best;
}

export function prefixCacheScorer(opts: {
  name?: string;
  index: PrefixIndex;
  params?: Partial<PrefixCacheParameters>;
}): Scorer & PreRequest & ResponseReceived {
  const p = { ...v.parse(PrefixCacheParameters, {}), ...opts.params };
  const { index } = opts;
  const key = stateKey<{ hashes: PrefixHashes; matches: ReadonlyMap<string, number> }>(PREFIX_CACHE_SCORER);
  const recordedOn = stateKey<string>(`${PREFIX_CACHE_SCORER}/recorded-on`);

  function blockChars(endpoints: readonly Endpoint[]): number {
    if (p.hashBlockSize !== undefined) return p.hashBlockSize;
    const tuned = p.autoTune ? commonBlockSize(endpoints) : undefined;
    const tokens = tuned === undefined ? p.blockSize : Math.max(tuned, DEFAULT_BLOCK_TOKENS);
    return tokens * CHARS_PER_TOKEN;
  }

  return {
    type: PREFIX_CACHE_SCORER,
    name: opts.name ?? PREFIX_CACHE_SCORER,
    score(ctx, endpoints) {
      const hashes = ctx.prefixHashes(blockChars(endpoints), p.maxPrefixBlocksToMatch);
      const matches = hashes.count > 0 ? index.match(hashes.keys) : new Map<string, number>();
      ctx.set(key, { hashes, matches });
      ctx.set(NEW_PREFIX, hashes.count > 0 && endpoints.every((e) => !matches.get(e.name)));
      const total = hashes.count;
      return endpoints.map((e) => (total > 0 ? (matches.get(e.name) ?? 0) / total : 0));
    },
    preRequest(ctx, endpoints) {
      const state = ctx.get(key);
      const primary = endpoints[0];
      if (state === undefined || primary === undefined || state.hashes.count === 0) return;
      index.record(primary.name, state.hashes.keys, p.lruCapacityPerServer);
      index.recordHit(state.matches.get(primary.name) ?? 0, state.hashes.count);
      ctx.set(recordedOn, primary.name);
    },
    responseReceived(ctx, { endpoint }) {
      const state = ctx.get(key);
      const recorded = ctx.get(recordedOn);
      if (state === undefined || recorded === undefined || recorded === endpoint.name) return;
      index.record(endpoint.name, state.hashes.keys, p.lruCapacityPerServer);
    },
  };
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
      `the name of an approx-prefix-cache-producer in plugins (defined: ${producers.map((p) => p.name).join(", ") || "none"})`,
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
  factory: withParameters(PrefixCacheParameters, (name, params, deps) =>
    prefixCacheScorer({ name, index: deps.prefixIndex, params: withProducer(params, deps) }),
  ),
};
