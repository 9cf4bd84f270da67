/**
 * The scrape benchmarks' pod side (scrape-micro.ts, scrape-pair.ts, scrape-pair-node.mts): the
 * overhead benchmark's mock page (bench/overhead/upstream.ts: vLLM's three gauges with their
 * HELP and TYPE lines, labelled as vLLM labels them) and a page as one raw HTTP/1.1 answer with
 * the headers uvicorn (vLLM) sends.
 */

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
