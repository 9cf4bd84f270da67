/**
 * A model-server pod for the routing benchmark (bench/scheduling-quality.ts), written for
 * it and apart from src/simulator on purpose: what makes cache-aware routing win or lose
 * on a GPU is modelled explicitly and nothing else.
 *
 * Model (times in ms, tokens = characters / 4, blocks of 16 tokens = 64 characters):
 * - At most `maxSeqs` requests are admitted; the rest wait (FCFS).
 * - Prefill is serial per pod, as one GPU runs one prefill pass at a time: an admitted
 *   request waits for the prefills ahead of it, then takes
 *   `prefillBaseMs + prefillMsPerToken x uncached tokens`; its first token is sent then.
 * - Uncached = prompt tokens minus the leading blocks found in the pod's prefix cache at
 *   the start of its prefill. After its prefill every block of the prompt is in the cache.
 * - The cache holds `kvBlocks` blocks, least recently used evicted first (a prefix loses
 *   its tail before its head, as vLLM's free-block queue does).
 * - Decode: `outputTokens` tokens at `decodeMsPerToken` each (batch size does not slow it).
 * - Metrics as vLLM names them: waiting = not admitted + admitted waiting for their
 *   prefill (vLLM has not scheduled them yet); running = prefilling + decoding; KV usage
 *   = blocks of the running (scheduled) requests / kvBlocks; `vllm:cache_config_info` with
 *   `num_gpu_blocks` and `block_size`; prefix-cache queries and hits in tokens.
 *
 * It speaks enough of the OpenAI API for the gateway: POST /v1/chat/completions (SSE:
 * one content chunk at the first token, one at the end, [DONE]; JSON when not streamed),
 * GET /v1/models, /health, /metrics. A client that leaves frees its place.
 */
import { Lru } from "./lru.ts";

export interface PrefillPodOptions {
  model: string;
  maxSeqs: number;
  kvBlocks: number;
  prefillBaseMs: number;
  prefillMsPerToken: number;
  decodeMsPerToken: number;
  outputTokens: number;
}

export interface PrefillPod {
  address: string;
  /** Requests served, prefix-cache hits and queries (tokens), since start or the last reset. */
  counters(): { requests: number; hitTokens: number; queryTokens: number };
  resetCounters(): void;
  close(): Promise<void>;
}

const BLOCK_CHARS = 64;

/** Chained block ids of a prompt (a block's id names the whole prefix up to it). */
function blockIds(text: string): string[] {
  const ids: string[] = [];
  let h = 0x811c9dc5;
  for (let b = 0; b + BLOCK_CHARS <= text.length; b += BLOCK_CHARS) {
    for (let i = b; i < b + BLOCK_CHARS; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
    ids.push(`${h.toString(36)}.${b}`);
  }
  return ids;
}

export async function startPrefillPod(o: PrefillPodOptions): Promise<PrefillPod> {
  const cache = new Lru(o.kvBlocks);
  const admitQueue: (() => void)[] = [];
  const prefillQueue: (() => void)[] = [];
  let admitted = 0;
  let prefilling = false;
  let runningBlocks = 0;
  let stats = { requests: 0, hitTokens: 0, queryTokens: 0 };

  const admit = () =>
    new Promise<void>((resolve) => {
      admitQueue.push(resolve);
      pump();
    });
  function pump() {
    while (admitted < o.maxSeqs && admitQueue.length > 0) {
      admitted++;
      admitQueue.shift()!();
    }
    if (!prefilling && prefillQueue.length > 0) {
      prefilling = true;
      prefillQueue.shift()!();
    }
  }
  const prefillTurn = () =>
    new Promise<void>((resolve) => {
      prefillQueue.push(resolve);
      pump();
    });

  /** Serves one prompt; calls `first` at its first token; resolves at its end. */
  async function serve(prompt: string, signal: AbortSignal, first: () => void): Promise<void> {
    await admit();
    const ids = blockIds(prompt);
    const tokens = Math.ceil(prompt.length / 4);
    let held = 0;
    try {
      await prefillTurn();
      held = ids.length; // KV blocks are allocated when the request is scheduled, as in vLLM
      runningBlocks += held;
      let hit = 0;
      while (hit < ids.length && cache.has(ids[hit]!)) hit++;
      const uncached = tokens - hit * (BLOCK_CHARS / 4);
      stats.hitTokens += hit * (BLOCK_CHARS / 4);
      stats.queryTokens += tokens;
      try {
        if (!signal.aborted) await Bun.sleep(o.prefillBaseMs + o.prefillMsPerToken * uncached);
        for (let i = ids.length - 1; i >= 0; i--) cache.touch(ids[i]!);
      } finally {
        prefilling = false;
        pump();
      }
      if (signal.aborted) return;
      first();
      await Bun.sleep(o.decodeMsPerToken * o.outputTokens);
      stats.requests++;
    } finally {
      runningBlocks -= held;
      admitted--;
      pump();
    }
  }

  const metrics = () => {
    const waiting = admitQueue.length + prefillQueue.length;
    const running = admitted - prefillQueue.length;
    const m = `model_name="${o.model}"`;
    return [
      `vllm:num_requests_waiting{${m}} ${waiting}`,
      `vllm:num_requests_running{${m}} ${running}`,
      `vllm:kv_cache_usage_perc{${m}} ${Math.min(1, runningBlocks / o.kvBlocks)}`,
      `vllm:cache_config_info{block_size="16",num_gpu_blocks="${o.kvBlocks}"} 1`,
      `vllm:prefix_cache_queries_total{${m}} ${stats.queryTokens}`,
      `vllm:prefix_cache_hits_total{${m}} ${stats.hitTokens}`,
      "",
    ].join("\n");
  };

  async function chat(req: Request): Promise<Response> {
    const body = (await req.json().catch(() => null)) as {
      model?: string;
      stream?: boolean;
      messages?: { content?: unknown }[];
    } | null;
    if (!body || body.model !== o.model)
      return Response.json({ error: { message: `model must be ${o.model}` } }, { status: 404 });
    const prompt = (body.messages ?? []).map((m) => String(m.content ?? "")).join("\n");
    const chunk = (content: string) =>
      `data: ${JSON.stringify({ object: "chat.completion.chunk", model: o.model, choices: [{ index: 0, delta: { content } }] })}\n\n`;
    if (!body.stream) {
      await serve(prompt, req.signal, () => {});
      return Response.json({ object: "chat.completion", choices: [{ message: { content: "ok" } }] });
    }
    const enc = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        serve(prompt, req.signal, () => controller.enqueue(enc.encode(chunk("a"))))
          .then(() => {
            controller.enqueue(enc.encode(`${chunk("b")}data: [DONE]\n\n`));
            controller.close();
          })
          .catch((e) => controller.error(e));
      },
    });
    return new Response(stream, { headers: { "content-type": "text/event-stream" } });
  }

  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (req.method === "POST" && path === "/v1/chat/completions") return chat(req);
      if (path === "/metrics") return new Response(metrics());
      if (path === "/health") return new Response("ok");
      if (path === "/v1/models")
        return Response.json({ object: "list", data: [{ id: o.model, object: "model" }] });
      return new Response("not found", { status: 404 });
    },
  });
  return {
    address: `127.0.0.1:${server.port}`,
    counters: () => ({ ...stats }),
    resetCounters() {
      stats = { requests: 0, hitTokens: 0, queryTokens: 0 };
    },
    async close() {
      await server.stop(true);
    },
  };
}
