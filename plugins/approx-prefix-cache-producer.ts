/**
 * approx-prefix-cache-producer (llm-d-router v0.10): where the approximate prefix
 * parameters live upstream now. It prepares nothing per request by itself here: the
 * prompt's block hashes are computed once per request by the framework
 * (`ctx.prefixHashes`) and shared; this plugin holds the block size and match window
 * that every prefix-cache-scorer reading from it uses (the scorer's
 * `prefixMatchInfoProducerName`, or the only producer of this type in the config).
 *
 *   block    = blockSizeTokens x 4 characters (the gateway hashes characters, not tokens)
 *   window   = maxPrefixTokensToMatch / blockSizeTokens blocks (rounded down, at least 1)
 *
 * Parameters (upstream names): `blockSizeTokens` (16), `maxPrefixTokensToMatch`
 * (4096 = 256 blocks of 16), `lruCapacityPerServer` (31,250: per endpoint, when it reports
 * no KV capacity), `autoTune` (true: use the engines' reported block size, and each
 * endpoint's reported KV capacity for its index entries, as upstream's autoTune does).
 */
import * as v from "valibot";
import type { Endpoint } from "../src/endpoints/types.ts";
import type { PluginIdentity } from "../src/scheduling/framework/interfaces.ts";
import { type PluginDefinition, withParameters } from "../src/scheduling/framework/registry.ts";
import {
  CHARS_PER_TOKEN,
  DEFAULT_BLOCK_TOKENS,
  DEFAULT_MAX_BLOCKS,
} from "../src/scheduling/prefix/hashes.ts";
import { DEFAULT_LRU_CAPACITY_PER_SERVER } from "../src/scheduling/prefix/prefix-index.ts";

export const APPROX_PREFIX_CACHE_PRODUCER = "approx-prefix-cache-producer";

const PositiveInt = v.pipe(v.number(), v.integer(), v.minValue(1));

const Parameters = v.strictObject({
  blockSizeTokens: v.optional(v.pipe(PositiveInt, v.maxValue(4096)), DEFAULT_BLOCK_TOKENS),
  maxPrefixTokensToMatch: v.optional(PositiveInt),
  lruCapacityPerServer: v.optional(PositiveInt, DEFAULT_LRU_CAPACITY_PER_SERVER),
  autoTune: v.optional(v.boolean(), true),
});

/** The prefix settings a producer hands to the scorers that read from it. */
export interface PrefixSettings {
  readonly blockSizeTokens: number;
  readonly maxPrefixBlocksToMatch: number;
  readonly lruCapacityPerServer: number;
  readonly autoTune: boolean;
}

export interface PrefixProducer extends PluginIdentity {
  readonly prefixSettings: PrefixSettings;
  readonly note: string;
}

export function isPrefixProducer(p: unknown): p is PrefixProducer {
  return typeof p === "object" && p !== null && "prefixSettings" in p;
}

export const approxPrefixCacheProducerPlugin: PluginDefinition = {
  type: APPROX_PREFIX_CACHE_PRODUCER,
  producer: true,
  factory: withParameters(Parameters, (name, params): PrefixProducer => {
    const maxBlocks =
      params.maxPrefixTokensToMatch === undefined
        ? DEFAULT_MAX_BLOCKS
        : Math.max(1, Math.floor(params.maxPrefixTokensToMatch / params.blockSizeTokens));
    return {
      type: APPROX_PREFIX_CACHE_PRODUCER,
      name,
      prefixSettings: {
        blockSizeTokens: params.blockSizeTokens,
        maxPrefixBlocksToMatch: Math.min(maxBlocks, 65536),
        lruCapacityPerServer: params.lruCapacityPerServer,
        autoTune: params.autoTune,
      },
      note: `blocks of ${params.blockSizeTokens} tokens, up to ${Math.min(maxBlocks, 65536)} blocks matched, for the prefix-cache scorers that read from it`,
    };
  }),
};

/**
 * The block size in characters for `endpoints`: the settings' tokens, or with autoTune the
 * candidates' most common engine block size, never below 16 tokens; 4 characters a token.
 */
export function blockCharsOf(settings: PrefixSettings, endpoints: readonly Endpoint[]): number {
  const tuned = settings.autoTune ? commonBlockSize(endpoints) : undefined;
  const tokens = tuned === undefined ? settings.blockSizeTokens : Math.max(tuned, DEFAULT_BLOCK_TOKENS);
  return tokens * CHARS_PER_TOKEN;
}

/** The most common engine block size among `endpoints` (smaller on a tie), if any reports one. */
export function commonBlockSize(endpoints: readonly Endpoint[]): number | undefined {
  // Usually every endpoint that reports a size reports the same one: one pass, no Map. Those
  // that report none (no cache_config_info, e.g. a mock pod) do not count, so they do not send
  // every decision to the counting below (issue 19, eighth pass: a Map and a second pass over
  // the candidates a decision, ~2 µs at 64 endpoints).
  let only: number | undefined;
  let uniform = true;
  for (let i = 0; i < endpoints.length && uniform; i++) {
    const b = endpoints[i]!.metrics.cache?.blockSize;
    if (b === undefined || !(b > 0)) continue;
    if (only === undefined) only = b;
    else if (b !== only) uniform = false;
  }
  if (uniform) return only;
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

/** The settings of the config's only approx-prefix-cache-producer, or GIE's defaults without one. */
export function prefixSettingsOf(producers: ReadonlyMap<string, unknown> | undefined): PrefixSettings {
  const found = [...(producers?.values() ?? [])].filter(isPrefixProducer);
  if (found.length === 1) return found[0]!.prefixSettings;
  return {
    blockSizeTokens: DEFAULT_BLOCK_TOKENS,
    maxPrefixBlocksToMatch: DEFAULT_MAX_BLOCKS,
    lruCapacityPerServer: DEFAULT_LRU_CAPACITY_PER_SERVER,
    autoTune: true,
  };
}
