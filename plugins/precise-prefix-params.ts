/**
 * Parameters of precise-prefix-cache-producer and precise-prefix-cache-scorer, with
 * upstream's names and defaults (llm-d-router's preciseprefixcache PluginConfig, llm-d-kv-cache
 * `kvcache.Config`, `kvevents.Config`, `kvblock.TokenProcessorConfig`):
 *
 *   tokenProcessorConfig.blockSize            16      tokens per KV block (must equal the engine's block_size)
 *   tokenProcessorConfig.hashSeed             ""      seeds the request keys
 *   indexerConfig.kvBlockIndexConfig
 *     .inMemoryConfig.size                    1e8     keys in the index
 *     .inMemoryConfig.podCacheSize            10      pods per key
 *     .enableMetrics                          false   accepted (counters are always kept)
 *   kvEventsConfig.zmqEndpoint                ""      central mode: bind here (tcp://*:5557)
 *   kvEventsConfig.topicFilter                "kv@"
 *   kvEventsConfig.concurrency                4       accepted (events are applied in order on one thread)
 *   kvEventsConfig.discoverPods               true    per-pod mode, when podDiscoveryConfig is given
 *   kvEventsConfig.podDiscoveryConfig.socketPort 5557
 *   kvEventsConfig.engineType                 "vllm"  (sglang is refused: its events differ)
 *   kvEventsConfig.snapshotPort               0       accepted, not used: no snapshot recovery; a
 *                                                     sequence gap forgets the pod, which is rebuilt
 *                                                     from the live events that follow
 *   speculativeIndexing                       false
 *   speculativeTTL                            "2s"
 *
 * This gateway's own: `tokenizer.source` ("pods", the default: learn token ids from the
 * pods' /tokenize; "simulator": run the built-in simulator's tokenizer; see
 * docs/precise-prefix.md),
 * `tokenizer.cacheSize` (10,000 learned prompt prefixes), `maxBlocksPerPod` (1,000,000
 * keys per pod, a memory bound).
 */
import * as v from "valibot";
import type { PreciseSettings } from "../src/kvevents/hub.ts";

const PositiveInt = v.pipe(v.number(), v.integer(), v.minValue(1));
const Port = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535));
/** A Go duration the gateway reads: "2s", "500ms", "1.5s", "1m", "1h". */
const Duration = v.pipe(
  v.string(),
  v.regex(/^\d+(\.\d+)?(ms|s|m|h)$/, 'a duration such as "2s" or "500ms"'),
  v.transform((s) => {
    const n = Number.parseFloat(s);
    if (s.endsWith("ms")) return n;
    return n * (s.endsWith("h") ? 3_600_000 : s.endsWith("m") ? 60_000 : 1000);
  }),
);

export const PreciseParameters = v.strictObject({
  tokenProcessorConfig: v.optional(
    v.strictObject({
      blockSize: v.optional(v.pipe(PositiveInt, v.maxValue(4096)), 16),
      hashSeed: v.optional(v.string(), ""),
    }),
    {},
  ),
  indexerConfig: v.optional(
    v.strictObject({
      kvBlockIndexConfig: v.optional(
        v.strictObject({
          inMemoryConfig: v.optional(
            v.strictObject({
              size: v.optional(PositiveInt, 100_000_000),
              podCacheSize: v.optional(PositiveInt, 10),
            }),
            {},
          ),
          enableMetrics: v.optional(v.boolean(), false),
          metricsLoggingInterval: v.optional(v.string()),
        }),
        {},
      ),
    }),
    {},
  ),
  kvEventsConfig: v.optional(
    v.strictObject({
      zmqEndpoint: v.optional(
        v.pipe(
          v.string(),
          v.regex(
            /^(|tcp:\/\/(\*|\[[^\]]+\]|[^:/]+):\d{1,5})$/,
            "tcp://HOST:PORT (tcp://*:5557 binds every interface)",
          ),
        ),
        "",
      ),
      topicFilter: v.optional(v.string(), "kv@"),
      concurrency: v.optional(PositiveInt, 4),
      discoverPods: v.optional(v.boolean(), true),
      /** llm-d's vLLM snapshot recovery (0 = off): accepted, not used; see the module comment. */
      snapshotPort: v.optional(v.union([v.literal(0), Port]), 0),
      podDiscoveryConfig: v.optional(
        v.strictObject({
          socketPort: v.optional(Port, 5557),
          podLabelSelector: v.optional(v.string()),
          podNamespace: v.optional(v.string()),
        }),
      ),
      engineType: v.optional(
        v.picklist(["vllm"], 'only "vllm" (SGLang\'s events carry no token ids)'),
        "vllm",
      ),
    }),
    {},
  ),
  speculativeIndexing: v.optional(v.boolean(), false),
  speculativeTTL: v.optional(Duration, "2s"),
  tokenizer: v.optional(
    v.strictObject({
      source: v.optional(v.picklist(["pods", "simulator"], '"pods" or "simulator"'), "pods"),
      cacheSize: v.optional(PositiveInt, 10_000),
    }),
    {},
  ),
  maxBlocksPerPod: v.optional(PositiveInt, 1_000_000),
});
export type PreciseParameters = v.InferOutput<typeof PreciseParameters>;

/** The index and events settings these parameters mean (the hub's key). */
export function preciseSettings(p: PreciseParameters): PreciseSettings {
  const mem = p.indexerConfig.kvBlockIndexConfig.inMemoryConfig;
  const ev = p.kvEventsConfig;
  return {
    blockSize: p.tokenProcessorConfig.blockSize,
    hashSeed: p.tokenProcessorConfig.hashSeed,
    speculativeTtlMs: p.speculativeTTL,
    maxBlocksPerPod: p.maxBlocksPerPod,
    maxKeys: mem.size,
    maxPodsPerKey: mem.podCacheSize,
    events: {
      zmqEndpoint: ev.zmqEndpoint,
      topicFilter: ev.topicFilter,
      discoverPods: ev.discoverPods && ev.podDiscoveryConfig !== undefined,
      socketPort: ev.podDiscoveryConfig?.socketPort ?? 5557,
    },
  };
}
