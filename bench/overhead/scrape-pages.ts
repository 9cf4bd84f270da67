/**
 * The scrape benchmarks' pod side (scrape-micro.ts, scrape-pair.ts, scrape-pair-node.mts): the
 * overhead benchmark's mock page (bench/overhead/upstream.ts: vLLM's three gauges with their
 * HELP and TYPE lines, labelled as vLLM labels them) and a page as one raw HTTP/1.1 answer with
 * the headers uvicorn (vLLM) sends; a full-size vLLM V1 page (`fullPage`).
 */

import { VLLM_METRICS } from "../../test/datalayer/fixtures/vllm.ts";

/** The label vLLM puts on each series. */
export const MODEL = 'model_name="meta-llama/Llama-3.1-8B-Instruct"';

/** The overhead benchmark's mock page. */
export const MOCK_PAGE = [
  "# HELP vllm:num_requests_waiting Number of requests waiting to be processed.",
  "# TYPE vllm:num_requests_waiting gauge",
  `vllm:num_requests_waiting{${MODEL}} 0.0`,
  "# HELP vllm:num_requests_running Number of requests in model execution batches.",
  "# TYPE vllm:num_requests_running gauge",
  `vllm:num_requests_running{${MODEL}} 3.0`,
  "# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.",
  "# TYPE vllm:kv_cache_usage_perc gauge",
  `vllm:kv_cache_usage_perc{${MODEL}} 0.1`,
  "",
].join("\n");

/** `page` as uvicorn answers it: date, server, content-length, content-type, then the body. */
export function rawAnswer(page: string): Buffer {
  const body = Buffer.from(page);
  return Buffer.concat([
    Buffer.from(
      "HTTP/1.1 200 OK\r\ndate: Sun, 06 Dec 2026 13:00:00 GMT\r\nserver: uvicorn\r\n" +
        `content-length: ${body.byteLength}\r\ncontent-type: text/plain; version=0.0.4; charset=utf-8\r\n\r\n`,
    ),
    body,
  ]);
}

/** A full-size vLLM V1 page: the fixture plus the histograms and counters a pod also serves. */
export function fullPage(): string {
  const lines = [VLLM_METRICS];
  const histograms = [
    "time_to_first_token_seconds",
    "inter_token_latency_seconds",
    "e2e_request_latency_seconds",
    "request_queue_time_seconds",
    "request_inference_time_seconds",
    "request_prefill_time_seconds",
    "request_decode_time_seconds",
    "request_prompt_tokens",
    "request_generation_tokens",
    "iteration_tokens_total",
    "request_max_num_generation_tokens",
    "request_params_n",
    "request_params_max_tokens",
    "time_per_output_token_seconds",
    "request_time_per_output_token_seconds",
    "kv_block_lifetime_seconds",
    "kv_block_idle_before_evict_seconds",
    "kv_block_reuse_gap_seconds",
    "request_prefill_kv_computed_tokens",
    "num_preemptions_per_request",
  ];
  for (const h of histograms) {
    lines.push(`# HELP vllm:${h} Histogram of ${h.replaceAll("_", " ")}.`, `# TYPE vllm:${h} histogram`);
    for (const engine of ["0", "1"]) {
      let count = 0;
      for (let b = 0; b < 28; b++) {
        count += 17 * b;
        const le = (0.001 * 2 ** (b / 2)).toPrecision(3);
        lines.push(`vllm:${h}_bucket{engine="${engine}",le="${le}",${MODEL}} ${count}.0`);
      }
      lines.push(`vllm:${h}_bucket{engine="${engine}",le="+Inf",${MODEL}} ${count}.0`);
      lines.push(`vllm:${h}_count{engine="${engine}",${MODEL}} ${count}.0`);
      lines.push(`vllm:${h}_sum{engine="${engine}",${MODEL}} ${count * 0.137}`);
    }
    lines.push(`# HELP vllm:${h}_created Histogram of ${h} created.`, `# TYPE vllm:${h}_created gauge`);
    lines.push(`vllm:${h}_created{engine="0",${MODEL}} 1.731845129e+09`);
  }
  for (const c of [
    "prompt_tokens",
    "generation_tokens",
    "request_success",
    "num_preemptions",
    "prefix_cache_queries",
    "prefix_cache_hits",
  ]) {
    lines.push(`# HELP vllm:${c}_total Number of ${c}.`, `# TYPE vllm:${c}_total counter`);
    for (const engine of ["0", "1"]) {
      lines.push(`vllm:${c}_total{engine="${engine}",${MODEL}} 123456.0`);
      lines.push(`vllm:${c}_created{engine="${engine}",${MODEL}} 1.731845129e+09`);
    }
  }
  return `${lines.join("\n")}\n`;
}
