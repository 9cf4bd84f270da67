/**
 * A model-server pod for the precise-prefix benchmark (bench/precise-prefix.ts), written
 * for it and apart from src/simulator: what decides precise vs approximate routing is
 * modelled explicitly, and it reports its cache through vLLM's KV events.
 *
 * Model (ms; tokens = characters / 4; blocks of 16 tokens = 64 characters):
 * - at most `maxSeqs` requests admitted, the rest wait FCFS;
 * - prefill is serial per pod (one GPU, one prefill pass at a time): an admitted request
 *   waits for the prefills ahead of it, then takes `prefillBaseMs + prefillMsPerToken x
 *   uncached tokens` (uncached = after the leading blocks found in the cache when its
 *   prefill starts); its first token is sent then, the last after `decodeMs`;
 * - the cache holds `kvBlocks` blocks, least recently used first out; after a prefill the
 *   prompt's blocks are in it (touched back to front, so a prefix loses its tail first).
 * - KV events as vLLM sends them: every prefill that stores new blocks publishes
 *   `[topic, seq, KVEventBatch]` with BlockStored (hashes, parent, the char tokenizer's
 *   token ids) and BlockRemoved for what it evicted, over ZMQ to `kvEndpoint`.
 * - /metrics with vLLM's names (waiting, running, kv_cache_usage_perc, cache_config_info,
 *   prefix_cache_queries/hits in tokens); /v1/models; /health; POST /v1/chat/completions
 *   streamed (one content chunk at the first token, one at the end, [DONE]).
 */
import { charTokens } from "../../src/kvevents/char-tokenizer.ts";
import { encodeKvEventBatch, type KvEvent, seqFrame } from "../../src/kvevents/events.ts";
import { ZmqPublisher } from "../../src/runtime/zmq-socket.ts";
import { promptText } from "../../src/scheduling/prefix/prompt.ts";

export interface KvEventPodOptions {
  model: string;
  maxSeqs: number;
  kvBlocks: number;
  prefillBaseMs: number;
  prefillMsPerToken: number;
  decodeMs: number;
  /** Loopback address to serve on (default 127.0.0.1); pods on 127.0.0.2, .3, ... can share ports. */
  host?: string;
  /**
   * Where to publish KV events, as vLLM's `endpoint`: `tcp://*:PORT` or `tcp://HOST:PORT`
   * with `bind` = the pod binds (per-pod subscriptions), else it connects to a central
   * subscriber. No events without it.
   */
  kvEndpoint?: string;
  kvBind?: boolean;
  /** `kv@<pod>@<model>`. */
  topic?: string;
}

export interface KvEventPod {
  address: string;
  counters(): { requests: number; hitTokens: number; queryTokens: number };
  resetCounters(): void;
  close(): Promise<void>;
}

const BLOCK_CHARS = 64;

function blockHashes(text: string): number[] {
  const out: number[] = [];
  let h1 = 0x9e3779b9;
  let h2 = 0x85ebca6b;
  for (let b = 0; b + BLOCK_CHARS <= text.length; b += BLOCK_CHARS) {
    for (let i = b; i < b + BLOCK_CHARS; i++) {
      h1 = Math.imul(h1 ^ text.charCodeAt(i), 0x01000193);
      h2 = Math.imul(h2 ^ text.charCodeAt(i), 0x5bd1e995);
    }
    out.push((h2 >>> 11) * 4294967296 + (h1 >>> 0));
  }
  return out;
}

export async function startKvEventPod(o: KvEventPodOptions): Promise<KvEventPod> {
  const cache = new Map<number, true>();
  const admitQueue: (() => void)[] = [];
  let admitted = 0;
  let prefillBusyUntil = 0;
  let running = 0;
  let waiting = 0;
  let c = { requests: 0, hitTokens: 0, queryTokens: 0 };
  let seq = 0;
  const pub = o.kvEndpoint ? new ZmqPublisher() : undefined;
  if (pub && o.kvEndpoint) {
    if (o.kvBind) await pub.bind(o.kvEndpoint);
    else pub.connect(o.kvEndpoint);
  }
  const topic = new TextEncoder().encode(o.topic ?? "");

  function publish(events: KvEvent[]): void {
    if (!pub || events.length === 0) return;
    pub.send([
      topic,
      seqFrame(seq++),
      encodeKvEventBatch({ ts: performance.now() / 1000, events, dataParallelRank: 0 }),
    ]);
  }

  /**
   * Generated tokens take KV blocks too: when a request ends, its full blocks of output
   * (`outputTokens` / 16, unique to the request) enter the cache after its prompt, as vLLM
   * caches full blocks of generated tokens, evicting older prefixes.
   */
  let outputs = 0;
  function storeOutput(parent: number | undefined, outputTokens: number): void {
    const n = Math.floor(outputTokens / 16);
    if (n === 0) return;
    const id = ++outputs;
    const tokens = Array.from({ length: n * 16 }, (_, i) => (id * 7919 + i) & 0x7fffffff);
    const hashes = Array.from({ length: n }, (_, i) => 2 ** 52 + id * 1024 + i);
    store("", hashes, { parent, tokens });
  }

  function store(
    text: string,
    hashes: number[],
    output?: { parent: number | undefined; tokens: number[] },
  ): void {
    const fresh = hashes.map((h) => !cache.has(h));
    for (let i = hashes.length - 1; i >= 0; i--) {
      cache.delete(hashes[i]!);
      cache.set(hashes[i]!, true);
    }
    const evicted: string[] = [];
    while (cache.size > o.kvBlocks) {
      const oldest = cache.keys().next().value as number;
      cache.delete(oldest);
      evicted.push(String(oldest));
    }
    const events: KvEvent[] = [];
    const first = fresh.indexOf(true);
    if (first >= 0) {
      events.push({
        kind: "BlockStored",
        blockHashes: hashes.slice(first).map(String),
        parentBlockHash:
          first > 0
            ? String(hashes[first - 1])
            : output?.parent !== undefined
              ? String(output.parent)
              : undefined,
        tokenIds: output
          ? output.tokens.slice(first * 16)
          : Array.from(charTokens(text.slice(first * BLOCK_CHARS, hashes.length * BLOCK_CHARS))),
        blockSize: 16,
        loraId: undefined,
        medium: "GPU",
      });
    }
    if (evicted.length > 0) events.push({ kind: "BlockRemoved", blockHashes: evicted, medium: "GPU" });
    publish(events);
  }

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

  async function serve(body: Record<string, unknown>): Promise<Response> {
    const text = promptText(body);
    waiting++;
    if (admitted >= o.maxSeqs) await new Promise<void>((r) => admitQueue.push(r));
    admitted++;
    const start = Math.max(performance.now(), prefillBusyUntil);
    const hashes = blockHashes(text);
    // The cache is looked up when the prefill starts; reserve the prefill slot now.
    const tokens = Math.ceil(text.length / 4);
    await sleep(start - performance.now());
    let hit = 0;
    while (hit < hashes.length && cache.has(hashes[hit]!)) hit++;
    const cached = Math.min(hit * 16, Math.max(0, tokens - 1));
    const prefill = o.prefillBaseMs + o.prefillMsPerToken * (tokens - cached);
    prefillBusyUntil = Math.max(prefillBusyUntil, performance.now()) + prefill;
    waiting--;
    running++;
    c.requests++;
    c.queryTokens += tokens;
    c.hitTokens += cached;
    await sleep(prefillBusyUntil - performance.now());
    store(text, hashes);
    const enc = new TextEncoder();
    const chunk = (content: string) =>
      enc.encode(
        `data: ${JSON.stringify({ model: o.model, choices: [{ index: 0, delta: { content } }] })}\n\n`,
      );
    const outputTokens = typeof body["max_tokens"] === "number" ? body["max_tokens"] : 0;
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      storeOutput(hashes.at(-1), outputTokens);
      running--;
      admitted--;
      admitQueue.shift()?.();
    };
    const stream = new ReadableStream<Uint8Array>({
      async start(ctrl) {
        ctrl.enqueue(chunk("a"));
        await sleep(o.decodeMs);
        ctrl.enqueue(chunk("b"));
        ctrl.enqueue(enc.encode("data: [DONE]\n\n"));
        ctrl.close();
        done();
      },
      cancel: done,
    });
    return new Response(stream, { headers: { "content-type": "text/event-stream" } });
  }

  function metrics(): string {
    const m = `{model_name="${o.model}"}`;
    return [
      `vllm:num_requests_waiting${m} ${waiting}`,
      `vllm:num_requests_running${m} ${running}`,
      `vllm:kv_cache_usage_perc${m} ${Math.min(1, (running * 40) / o.kvBlocks)}`,
      `vllm:cache_config_info{block_size="16",num_gpu_blocks="${o.kvBlocks}"} 1`,
      `vllm:prefix_cache_queries_total${m} ${c.queryTokens}`,
      `vllm:prefix_cache_hits_total${m} ${c.hitTokens}`,
      "",
    ].join("\n");
  }

  const server = Bun.serve({
    port: 0,
    hostname: o.host ?? "127.0.0.1",
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/metrics") return new Response(metrics());
      if (path === "/health") return new Response("ok");
      if (path === "/v1/models")
        return Response.json({ object: "list", data: [{ id: o.model, object: "model" }] });
      if (path === "/v1/chat/completions" && req.method === "POST")
        return serve((await req.json()) as Record<string, unknown>);
      return new Response("not found", { status: 404 });
    },
  });
  return {
    address: `${o.host ?? "127.0.0.1"}:${server.port}`,
    counters: () => ({ ...c }),
    resetCounters() {
      c = { requests: 0, hitTokens: 0, queryTokens: 0 };
    },
    async close() {
      pub?.close();
      await server.stop(true);
    },
  };
}
