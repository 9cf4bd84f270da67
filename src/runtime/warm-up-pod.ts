/**
 * The model server the start-up warm-up (warm-up.ts) sends its synthetic requests to: an
 * OpenAI-compatible answer in vLLM's shapes, prebuilt, so the gateway's own code is what the
 * warm-up spends its time on. It answers
 *
 *   POST /v1/chat/completions, /v1/completions   JSON, or an SSE stream when `"stream": true`
 *                                                (20 content chunks, the usage event when asked)
 *   GET  /metrics                                vLLM's gauges (what the scraper reads)
 *   GET  /v1/models                              the one model
 *
 * Nothing here is the simulator (src/simulator): that one paces tokens in real time, and a
 * warm-up wants as many requests as its budget allows.
 */
import type { FetchHandler } from "./server.ts";

/** The model the warm-up's pool serves (a name no deployment routes: the throwaway gateway is its own). */
export const WARM_MODEL = "gateway-warm-up";

const encoder = new TextEncoder();
const CREATED = 1_700_000_000;

function chatAnswer(stream: boolean): string {
  return JSON.stringify({
    id: "chatcmpl-warm-up",
    object: "chat.completion",
    created: CREATED,
    model: WARM_MODEL,
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: "warm" },
        logprobs: null,
        finish_reason: stream ? null : "stop",
      },
    ],
    usage: { prompt_tokens: 12, completion_tokens: 1, total_tokens: 13 },
  });
}

const frame = (obj: unknown) => `data: ${JSON.stringify(obj)}\n\n`;
const chunk = (object: string, choice: Record<string, unknown>) =>
  frame({ id: "cmpl-warm-up", object, created: CREATED, model: WARM_MODEL, choices: [choice] });

/** A stream's bytes: a role chunk, 20 content chunks, the finish, the usage event when asked, [DONE]. */
function streamAnswer(chat: boolean, usage: boolean): Uint8Array<ArrayBuffer> {
  const object = chat ? "chat.completion.chunk" : "text_completion";
  const piece = (text: string, finish: string | null) =>
    chat
      ? chunk(object, { index: 0, delta: { content: text }, logprobs: null, finish_reason: finish })
      : chunk(object, { index: 0, text, logprobs: null, finish_reason: finish });
  let out = chat
    ? chunk(object, { index: 0, delta: { role: "assistant", content: "" }, finish_reason: null })
    : "";
  for (let i = 0; i < 20; i++) out += piece(" tok", null);
  out += piece("", "stop");
  if (usage)
    out += frame({
      id: "cmpl-warm-up",
      object,
      created: CREATED,
      model: WARM_MODEL,
      choices: [],
      usage: { prompt_tokens: 12, completion_tokens: 20, total_tokens: 32 },
    });
  return encoder.encode(`${out}data: [DONE]\n\n`);
}

const ANSWERS = {
  chatJson: encoder.encode(chatAnswer(false)),
  textJson: encoder.encode(
    JSON.stringify({
      id: "cmpl-warm-up",
      object: "text_completion",
      created: CREATED,
      model: WARM_MODEL,
      choices: [{ index: 0, text: "warm", logprobs: null, finish_reason: "stop" }],
      usage: { prompt_tokens: 12, completion_tokens: 1, total_tokens: 13 },
    }),
  ),
  chatStream: streamAnswer(true, false),
  chatStreamUsage: streamAnswer(true, true),
  textStream: streamAnswer(false, false),
  textStreamUsage: streamAnswer(false, true),
};

const MODELS = JSON.stringify({
  object: "list",
  data: [
    { id: WARM_MODEL, object: "model", created: CREATED, owned_by: "vllm", root: WARM_MODEL, parent: null },
  ],
});

/** vLLM's gauges as its /metrics writes them, for a pod with `running` requests. */
function metricsPage(running: number): string {
  const labels = `{engine="0",model_name="${WARM_MODEL}"}`;
  return [
    "# HELP vllm:num_requests_running Number of requests in model execution batches.",
    "# TYPE vllm:num_requests_running gauge",
    `vllm:num_requests_running${labels} ${running}`,
    "# HELP vllm:num_requests_waiting Number of requests waiting to be processed.",
    "# TYPE vllm:num_requests_waiting gauge",
    `vllm:num_requests_waiting${labels} 0`,
    "# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.",
    "# TYPE vllm:kv_cache_usage_perc gauge",
    `vllm:kv_cache_usage_perc${labels} ${(running * 0.01).toFixed(2)}`,
    "",
  ].join("\n");
}

const JSON_HEAD = { "content-type": "application/json" };
const SSE_HEAD = { "content-type": "text/event-stream", "cache-control": "no-cache" };

/** The warm-up pod's handler (one per pod; `running` counts its requests in flight for /metrics). */
export function warmUpPod(): FetchHandler {
  let running = 0;
  return async (request) => {
    const path = new URL(request.url).pathname;
    if (request.method === "GET") {
      if (path === "/metrics")
        return new Response(metricsPage(running), { headers: { "content-type": "text/plain" } });
      if (path === "/v1/models") return new Response(MODELS, { headers: JSON_HEAD });
      return new Response("ok");
    }
    const chat = path === "/v1/chat/completions";
    if (!chat && path !== "/v1/completions")
      return new Response(JSON.stringify({ error: { message: "not served", type: "NotFoundError" } }), {
        status: 404,
        headers: JSON_HEAD,
      });
    running++;
    try {
      // Only the flags that shape the answer are looked at: the gateway's own body is what is warmed.
      const body = await request.text();
      const stream = body.includes('"stream":true');
      if (!stream) return new Response(chat ? ANSWERS.chatJson : ANSWERS.textJson, { headers: JSON_HEAD });
      const usage = body.includes('"include_usage":true');
      const bytes = chat
        ? usage
          ? ANSWERS.chatStreamUsage
          : ANSWERS.chatStream
        : usage
          ? ANSWERS.textStreamUsage
          : ANSWERS.textStream;
      return new Response(bytes, { headers: SSE_HEAD });
    } finally {
      running--;
    }
  };
}
