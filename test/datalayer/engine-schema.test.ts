import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import {
  BUILTIN_ENGINES,
  EngineMappingSchema,
  EngineMappingsSchema,
  mergeEngineMappings,
  toSnapshot,
  wantedMetrics,
} from "../../src/datalayer/engines.ts";
import { parsePromText } from "../../src/datalayer/prom-text.ts";

const LLAMACPP_METRICS = `# HELP llamacpp:kv_cache_usage_ratio KV-cache usage. 1 means 100 percent usage.
# TYPE llamacpp:kv_cache_usage_ratio gauge
llamacpp:kv_cache_usage_ratio 0.125
# HELP llamacpp:requests_processing Number of requests processing.
# TYPE llamacpp:requests_processing gauge
llamacpp:requests_processing 2
# HELP llamacpp:requests_deferred Number of requests deferred.
# TYPE llamacpp:requests_deferred gauge
llamacpp:requests_deferred 7
`;

describe("user-defined engines via EngineMappingSchema", () => {
  test("a llama.cpp mapping from config scrapes like a built-in", () => {
    const engines = v.parse(EngineMappingsSchema, {
      llamacpp: {
        waiting: "llamacpp:requests_deferred",
        running: ["llamacpp:requests_processing"],
        kvUsage: "llamacpp:kv_cache_usage_ratio",
      },
    });
    const merged = mergeEngineMappings(BUILTIN_ENGINES, engines);
    const mapping = merged.llamacpp!;
    const { families } = parsePromText(LLAMACPP_METRICS, wantedMetrics(mapping));
    expect(toSnapshot(families, mapping, 9)).toEqual({
      waitingQueueSize: 7,
      runningRequests: 2,
      kvCacheUsage: 0.125,
      updatedAt: 9,
    });
    expect(merged.vllm).toBe(BUILTIN_ENGINES.vllm!);
  });

  test("a user entry replaces a built-in of the same name as a whole", () => {
    const user = v.parse(EngineMappingsSchema, { vllm: { waiting: "a", running: "b" } });
    const merged = mergeEngineMappings(BUILTIN_ENGINES, user);
    expect(merged.vllm).toEqual({ waiting: ["a"], running: ["b"], kvUsage: [] });
    expect(merged.sglang).toBe(BUILTIN_ENGINES.sglang!);
    expect(BUILTIN_ENGINES.vllm!.waiting).toEqual(["vllm:num_requests_waiting"]);
    expect(Object.isFrozen(BUILTIN_ENGINES.vllm!.kvUsage)).toBe(true); // built-ins are shared: deep-frozen
  });

  test("every built-in mapping passes the schema", () => {
    for (const [name, m] of Object.entries(BUILTIN_ENGINES)) {
      expect(v.safeParse(EngineMappingSchema, m).success, name).toBe(true);
    }
  });

  test("all optional fields are accepted", () => {
    const r = v.safeParse(EngineMappingSchema, {
      waiting: [{ name: "q", labels: { type: "waiting" } }],
      running: ['q{type="running"}'],
      kvUsage: ["kv"],
      kvUsageScale: 0.01,
      lora: "l",
      loraLabels: { max: "m", running: "r", waiting: "w" },
      cacheInfo: { metric: "ci", blockSizeLabel: "bs", numBlocksLabel: "nb" },
      cacheGauges: { blockSize: "bs_gauge", numBlocks: ["nb_gauge"] },
    });
    expect(r.success).toBe(true);
  });

  const invalid: [string, unknown, string][] = [
    ["missing waiting", { running: "r" }, "waiting"],
    ["empty waiting list", { waiting: [], running: "r" }, "waiting"],
    ["bad metric name", { waiting: "1bad", running: "r" }, "waiting"],
    ["bad selector", { waiting: "q{type}", running: "r" }, "waiting"],
    ["unclosed selector", { waiting: "q{type=a", running: "r" }, "waiting"],
    ["unknown field (typo)", { waiting: "w", running: "r", kvUsge: "k" }, "kvUsge"],
    ["non-positive scale", { waiting: "w", running: "r", kvUsageScale: 0 }, "kvUsageScale"],
    [
      "bad label name in object ref",
      { waiting: { name: "q", labels: { "a-b": "x" } }, running: "r" },
      "waiting",
    ],
  ];
  test.each(invalid)("rejects %s, naming the field", (_, input, field) => {
    const r = v.safeParse(EngineMappingSchema, input);
    expect(r.success).toBe(false);
    if (!r.success) {
      const paths = r.issues.map((i) => v.getDotPath(i) ?? "");
      expect(paths.some((p) => p.startsWith(field))).toBe(true);
    }
  });
});
