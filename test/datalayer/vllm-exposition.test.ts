import { describe, expect, test } from "bun:test";
import { BUILTIN_ENGINES, toSnapshot, wantedMetrics } from "../../src/datalayer/engines.ts";
import { parsePromText } from "../../src/datalayer/prom-text.ts";
import { VLLM_METRICS } from "./fixtures/vllm.ts";

const vllm = BUILTIN_ENGINES.vllm!;

describe("a real vLLM /metrics exposition", () => {
  test("parses without errors, keeping every family and label set", () => {
    const { families, errors } = parsePromText(VLLM_METRICS);
    expect(errors).toBe(0);
    expect(families.get("vllm:num_requests_running")).toHaveLength(2);
    expect(families.get("vllm:time_to_first_token_seconds_bucket")).toHaveLength(9);
    expect(families.get("vllm:time_to_first_token_seconds_bucket")?.at(-1)?.labels.le).toBe("+Inf");
    expect(families.get("vllm:time_to_first_token_seconds_sum")?.[0]?.value).toBeCloseTo(512.304, 3);
    expect(families.get("process_resident_memory_bytes")?.[0]?.value).toBe(2147483648);
    expect(families.get("python_info")?.[0]?.labels.version).toBe("3.12.11");
    const cache = families.get("vllm:cache_config_info")?.[0]?.labels;
    expect(cache?.block_size).toBe("16");
    expect(cache?.num_gpu_blocks).toBe("27264");
    expect(cache?.num_cpu_blocks).toBe("None");
  });

  test("maps to a snapshot: sums ranks, max KV, newest LoRA series, cache geometry", () => {
    const { families } = parsePromText(VLLM_METRICS);
    expect(toSnapshot(families, vllm, 1234)).toEqual({
      waitingQueueSize: 4,
      runningRequests: 12,
      kvCacheUsage: 0.4213,
      lora: { maxLoras: 4, running: ["sql-lora", "tweet-summary"], waiting: ["chat-fr"] },
      cache: { blockSize: 16, numBlocks: 27264 },
      updatedAt: 1234,
    });
  });

  test("the wanted filter parses only mapped families and yields the same snapshot", () => {
    const full = toSnapshot(parsePromText(VLLM_METRICS).families, vllm, 1);
    const filtered = parsePromText(VLLM_METRICS, wantedMetrics(vllm));
    expect(filtered.errors).toBe(0);
    expect([...filtered.families.keys()].sort()).toEqual([
      "vllm:cache_config_info",
      "vllm:kv_cache_usage_perc",
      "vllm:lora_requests_info",
      "vllm:num_requests_running",
      "vllm:num_requests_waiting",
    ]);
    expect(toSnapshot(filtered.families, vllm, 1)).toEqual(full);
  });

  test("snapshots are frozen", () => {
    const snap = toSnapshot(parsePromText(VLLM_METRICS).families, vllm, 1);
    expect(Object.isFrozen(snap)).toBe(true);
    expect(Object.isFrozen(snap.lora)).toBe(true);
  });
});
