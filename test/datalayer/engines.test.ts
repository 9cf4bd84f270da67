import { describe, expect, test } from "bun:test";
import {
  BUILTIN_ENGINES,
  type EngineMapping,
  missingMetrics,
  toSnapshot,
  wantedMetrics,
} from "../../src/datalayer/engines.ts";
import { parsePromText } from "../../src/datalayer/prom-text.ts";
import type { MetricsSnapshot } from "../../src/endpoints/types.ts";

const SGLANG = `# HELP sglang:num_running_reqs The number of running requests.
# TYPE sglang:num_running_reqs gauge
sglang:num_running_reqs{model_name="qwen",engine_type="unified",tp_rank="0",pp_rank="0"} 6.0
# HELP sglang:num_queue_reqs The number of requests in the waiting queue.
# TYPE sglang:num_queue_reqs gauge
sglang:num_queue_reqs{model_name="qwen",engine_type="unified",tp_rank="0",pp_rank="0"} 2.0
# HELP sglang:token_usage The token usage.
# TYPE sglang:token_usage gauge
sglang:token_usage{model_name="qwen",engine_type="unified",tp_rank="0",pp_rank="0"} 0.27
# TYPE sglang:cache_config_info gauge
sglang:cache_config_info{model_name="qwen",page_size="1",num_pages="412345"} 1.0
`;

const TRTLLM_SERVE = `# TYPE trtllm_num_requests_waiting gauge
trtllm_num_requests_waiting{model_name="llama"} 9
# TYPE trtllm_num_requests_running gauge
trtllm_num_requests_running{model_name="llama"} 31
# TYPE trtllm_kv_cache_utilization gauge
trtllm_kv_cache_utilization{model_name="llama"} 0.8
# TYPE trtllm_kv_cache_tokens_per_block gauge
trtllm_kv_cache_tokens_per_block{model_name="llama"} 32
# TYPE trtllm_kv_cache_max_blocks gauge
trtllm_kv_cache_max_blocks{model_name="llama"} 9000
`;

const TRITON = `# HELP nv_trt_llm_request_metrics TRT LLM request metrics
# TYPE nv_trt_llm_request_metrics gauge
nv_trt_llm_request_metrics{model="tensorrt_llm",request_type="context",version="1"} 1
nv_trt_llm_request_metrics{model="tensorrt_llm",request_type="scheduled",version="1"} 4
nv_trt_llm_request_metrics{model="tensorrt_llm",request_type="max",version="1"} 512
nv_trt_llm_request_metrics{model="tensorrt_llm",request_type="active",version="1"} 4
nv_trt_llm_request_metrics{model="tensorrt_llm",request_type="waiting",version="1"} 3
# HELP nv_trt_llm_kv_cache_block_metrics TRT LLM KV cache block metrics
# TYPE nv_trt_llm_kv_cache_block_metrics gauge
nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="tokens_per",model="tensorrt_llm",version="1"} 64
nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="used",model="tensorrt_llm",version="1"} 1560
nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="free",model="tensorrt_llm",version="1"} 4679
nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="max",model="tensorrt_llm",version="1"} 6239
nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="fraction",model="tensorrt_llm",version="1"} 0.25
# HELP nv_inference_pending_request_count Instantaneous number of pending requests awaiting execution per-model.
# TYPE nv_inference_pending_request_count gauge
nv_inference_pending_request_count{model="tensorrt_llm",version="1"} 99
`;

const VLLM_MIN = `vllm:num_requests_waiting{model_name="m"} 2
vllm:num_requests_running{model_name="m"} 3
vllm:kv_cache_usage_perc{model_name="m"} 0.5
`;

const cases: [string, string, Omit<MetricsSnapshot, "updatedAt">][] = [
  ["vllm", VLLM_MIN, { waitingQueueSize: 2, runningRequests: 3, kvCacheUsage: 0.5 }],
  [
    "sglang",
    SGLANG,
    {
      waitingQueueSize: 2,
      runningRequests: 6,
      kvCacheUsage: 0.27,
      cache: { blockSize: 1, numBlocks: 412345 },
    },
  ],
  [
    "trtllm-serve",
    TRTLLM_SERVE,
    {
      waitingQueueSize: 9,
      runningRequests: 31,
      kvCacheUsage: 0.8,
      cache: { blockSize: 32, numBlocks: 9000 },
    },
  ],
  [
    "triton",
    TRITON,
    {
      waitingQueueSize: 3,
      runningRequests: 4,
      kvCacheUsage: 0.25,
      cache: { blockSize: 64, numBlocks: 6239 },
    },
  ],
  [
    "triton-tensorrt-llm",
    TRITON,
    {
      waitingQueueSize: 3,
      runningRequests: 4,
      kvCacheUsage: 0.25,
      cache: { blockSize: 64, numBlocks: 6239 },
    },
  ],
];

describe("built-in engine mappings", () => {
  test.each(cases)("%s", (engine, text, want) => {
    const mapping = BUILTIN_ENGINES[engine]!;
    const { families, errors } = parsePromText(text, wantedMetrics(mapping));
    expect(errors).toBe(0);
    expect(toSnapshot(families, mapping, 77)).toEqual({ ...want, updatedAt: 77 });
    expect(missingMetrics(families, mapping)).toEqual([]);
  });

  test("triton without the TensorRT-LLM backend falls back to the generic pending count", () => {
    const text = 'nv_inference_pending_request_count{model="resnet",version="1"} 5\n';
    const snap = toSnapshot(parsePromText(text).families, BUILTIN_ENGINES.triton!, 1);
    expect(snap.waitingQueueSize).toBe(5);
    expect(snap.runningRequests).toBe(0);
  });

  test("an exposition of another engine is reported as missing everything", () => {
    const { families } = parsePromText(SGLANG);
    expect(missingMetrics(families, BUILTIN_ENGINES.vllm!)).toEqual(["waiting", "running", "kvUsage"]);
    expect(toSnapshot(families, BUILTIN_ENGINES.vllm!, 5)).toEqual({
      waitingQueueSize: 0,
      runningRequests: 0,
      kvCacheUsage: 0,
      updatedAt: 5,
    });
  });
});

describe("aggregation and resolution rules", () => {
  const base: EngineMapping = { waiting: ["w"], running: ["r"], kvUsage: ["kv_new", "kv_old"] };
  const snap = (text: string, m: EngineMapping = base) => toSnapshot(parsePromText(text).families, m, 0);

  // Rows without a mapping use `base`. (Rows are padded: bun passes a `done` callback as an extra argument.)
  const rows: [string, string, Partial<MetricsSnapshot>, EngineMapping?][] = [
    ["KV falls back to the legacy name", "kv_old 0.6\n", { kvCacheUsage: 0.6 }],
    [
      "the first name present wins even if later ones exist",
      "kv_new 0.1\nkv_old 0.9\n",
      { kvCacheUsage: 0.1 },
    ],
    [
      "several series: waiting/running summed, KV max",
      'w{model_name="a"} 2\nw{model_name="b"} 5\nr{model_name="a"} 1\nr{model_name="b"} 1\nkv_new{m="a"} 0.3\nkv_new{m="b"} 0.7\n',
      { waitingQueueSize: 7, runningRequests: 2, kvCacheUsage: 0.7 },
    ],
    [
      "non-finite values are ignored",
      "w NaN\nw 3\nr +Inf\nkv_new NaN\n",
      { waitingQueueSize: 3, runningRequests: 0, kvCacheUsage: 0 },
    ],
    ["KV usage is clamped to 1", "kv_new 1.7\n", { kvCacheUsage: 1 }],
    ["KV usage is clamped to 0", "kv_new -0.2\n", { kvCacheUsage: 0 }],
    [
      "kvUsageScale converts percent",
      "kv_new 42\n",
      { kvCacheUsage: 0.42 },
      { waiting: ["w"], running: ["r"], kvUsage: ["kv_new"], kvUsageScale: 0.01 },
    ],
    [
      "label selectors in spec strings",
      'q{type="waiting"} 4\nq{type="scheduled"} 6\nq{type="max"} 512\n',
      { waitingQueueSize: 4, runningRequests: 6 },
      { waiting: ["q{type=waiting}"], running: ['q{type="scheduled"}'], kvUsage: [] },
    ],
    [
      "label selectors as objects; a selector that matches nothing falls through",
      'q{type="waiting",model="a"} 4\nq{type="waiting",model="b"} 1\n',
      { waitingQueueSize: 5, runningRequests: 4 },
      {
        waiting: [{ name: "q", labels: { type: "waiting" } }],
        running: [
          { name: "q", labels: { type: "running" } },
          { name: "q", labels: { model: "a" } },
        ],
        kvUsage: [],
      },
    ],
    [
      "absent metrics read 0, no lora or cache",
      "",
      { waitingQueueSize: 0, runningRequests: 0, kvCacheUsage: 0 },
    ],
  ];
  const rules = rows.map(([name, text, want, m]) => [name, text, want, m ?? base] as const);
  test.each(rules)("%s", (_, text, want, mapping) => {
    expect(snap(text, mapping)).toMatchObject(want);
  });

  test("cache info with unusable labels is omitted", () => {
    const m: EngineMapping = {
      ...base,
      cacheInfo: { metric: "ci", blockSizeLabel: "bs", numBlocksLabel: "nb" },
    };
    expect(snap('ci{bs="16",nb="None"} 1\n', m).cache).toBeUndefined();
    expect(snap('ci{bs="16",nb="None"} 1\nci{bs="16",nb="100"} 1\n', m).cache).toEqual({
      blockSize: 16,
      numBlocks: 100,
    });
  });
});
