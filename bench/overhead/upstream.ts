/**
 * A fast mock model server for the overhead benchmark (Bun). One process listens on
 * several ports (each a "pod" of the pool) and answers:
 *
 *   POST /v1/chat/completions, /v1/completions  JSON, or SSE when the body has "stream":true
 *   GET  /v1/models                              one model, so the gateway's discovery works
 *   GET  /metrics                                vLLM's three gauges, so the scraper works
 *   GET  /health                                 200
 *
 * Request headers steer a stream: `x-mock-chunks` (content chunks, default 20) and
 * `x-mock-interval-ms` (pause between chunks, default 0); `x-mock-delay-ms` delays a JSON answer
 * (default 0). Responses are prebuilt bytes;
 * the body is only scanned (never parsed), so the mock costs as little as possible.
 *
 *   bun bench/overhead/upstream.ts --ports 0,0,0,0 [--model m]
 * prints one line `{"ports":[...]}` once listening.
 */
import { parseArgs } from "node:util";
import { completionJson } from "./bodies.ts";

const { values } = parseArgs({
  options: {
    ports: { type: "string", default: "0" },
    model: { type: "string", default: "m" },
    hostname: { type: "string", default: "127.0.0.1" },
  },
});
const MODEL = values.model;
const encoder = new TextEncoder();

const JSON_ANSWER = encoder.encode(completionJson(MODEL));
const JSON_HEADERS = { "content-type": "application/json" };
const SSE_HEADERS = { "content-type": "text/event-stream", "cache-control": "no-cache" };

const sse = (obj: unknown) => encoder.encode(`data: ${JSON.stringify(obj)}\n\n`);
const chunkOf = (delta: Record<string, unknown>, finish: string | null) =>
  sse({
    id: "chatcmpl-bench",
    object: "chat.completion.chunk",
    created: 1700000000,
    model: MODEL,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  });
const ROLE = chunkOf({ role: "assistant", content: "" }, null);
const TOKEN = chunkOf({ content: " tok" }, null);
const FINISH = chunkOf({}, "stop");
const DONE = encoder.encode("data: [DONE]\n\n");
const usageEvent = (n: number) =>
  sse({
    id: "chatcmpl-bench",
    object: "chat.completion.chunk",
    created: 1700000000,
    model: MODEL,
    choices: [],
    usage: { prompt_tokens: 12, completion_tokens: n, total_tokens: 12 + n },
  });

const MODELS = JSON.stringify({
  object: "list",
  data: [{ id: MODEL, object: "model", created: 1700000000, owned_by: "bench", root: MODEL, parent: null }],
});

function metrics(running: number): string {
  return (
    `# HELP vllm:num_requests_waiting Number of requests waiting to be processed.\n` +
    `# TYPE vllm:num_requests_waiting gauge\n` +
    `vllm:num_requests_waiting{model_name="${MODEL}"} 0.0\n` +
    `# HELP vllm:num_requests_running Number of requests in model execution batches.\n` +
    `# TYPE vllm:num_requests_running gauge\n` +
    `vllm:num_requests_running{model_name="${MODEL}"} ${running}.0\n` +
    `# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.\n` +
    `# TYPE vllm:kv_cache_usage_perc gauge\n` +
    `vllm:kv_cache_usage_perc{model_name="${MODEL}"} 0.1\n`
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stream(chunks: number, intervalMs: number, usage: boolean, done: () => void): Response {
  if (intervalMs <= 0) {
    // Everything at once: one buffer, the cheapest possible SSE answer.
    const parts = [ROLE, ...Array.from({ length: chunks }, () => TOKEN), FINISH];
    if (usage) parts.push(usageEvent(chunks));
    parts.push(DONE);
    done();
    return new Response(Buffer.concat(parts), { headers: SSE_HEADERS });
  }
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      try {
        controller.enqueue(ROLE);
        for (let i = 0; i < chunks && !cancelled; i++) {
          await sleep(intervalMs);
          if (!cancelled) controller.enqueue(TOKEN);
        }
        if (!cancelled) {
          controller.enqueue(FINISH);
          if (usage) controller.enqueue(usageEvent(chunks));
          controller.enqueue(DONE);
          controller.close();
        }
      } catch {
        // the reader went away
      } finally {
        done();
      }
    },
    cancel() {
      cancelled = true;
    },
  });
  return new Response(body, { headers: SSE_HEADERS });
}

const ports = values.ports.split(",").map(Number);
const bound: number[] = [];
for (const port of ports) {
  let running = 0;
  const server = Bun.serve({
    port,
    hostname: values.hostname,
    idleTimeout: 0,
    async fetch(req) {
      const path = req.url.slice(req.url.indexOf("/", 8));
      if (req.method === "POST") {
        const text = await req.text();
        if (!text.includes('"stream":true')) {
          const delay = Number(req.headers.get("x-mock-delay-ms") ?? 0);
          if (delay > 0) await sleep(delay);
          return new Response(JSON_ANSWER, { headers: JSON_HEADERS });
        }
        running++;
        const chunks = Number(req.headers.get("x-mock-chunks") ?? 20);
        const interval = Number(req.headers.get("x-mock-interval-ms") ?? 0);
        return stream(chunks, interval, text.includes('"include_usage":true'), () => running--);
      }
      if (path === "/metrics")
        return new Response(metrics(running), { headers: { "content-type": "text/plain" } });
      if (path === "/v1/models") return new Response(MODELS, { headers: JSON_HEADERS });
      if (path === "/health") return new Response(null, { status: 200 });
      return new Response("not found", { status: 404 });
    },
  });
  bound.push(server.port ?? port);
}
console.log(JSON.stringify({ ports: bound }));
