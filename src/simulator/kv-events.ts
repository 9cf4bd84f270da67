/**
 * The simulator's KV-event publisher, vLLM's `--kv-events-config` equivalent:
 *
 *   { enable_kv_cache_events: true, publisher: "zmq", endpoint: "tcp://*:5557", topic: "kv@POD@MODEL" }
 *
 * As vLLM's ZmqEventPublisher: an endpoint with `*` or `::` is bound (subscribers connect
 * to the pod), any other is connected to (a central subscriber, e.g. the gateway); each
 * batch of the prefix cache's events is sent as `[topic, seq (8-byte big-endian),
 * msgpack KVEventBatch]`, `[ts, [events], data_parallel_rank 0]` (array_like).
 *
 * The sockets come from src/runtime/zmq-socket.ts (`node:net`), loaded only when the
 * option is set, so the simulator stays web-standard otherwise. A publisher that cannot
 * bind logs and the pod serves on without events.
 */
import type { Clock } from "../clock.ts";
import { encodeKvEventBatch, seqFrame } from "../kvevents/events.ts";
import type { PrefixCache } from "./prefix-cache.ts";

/** vLLM's KVEventsConfig fields the simulator honours (snake_case, as vLLM's JSON flag). */
export interface KvEventsConfig {
  enable_kv_cache_events?: boolean;
  publisher?: "zmq" | "null";
  /** Default `tcp://*:5557` (bind), as vLLM. */
  endpoint?: string;
  /** Default "" as vLLM; llm-d expects `kv@<pod-ip>@<model>`. */
  topic?: string;
}

export interface KvEventPublisher {
  /** Resolves once bound (or connecting); never rejects (a failure is logged). */
  readonly ready: Promise<void>;
  /** Batches sent so far. */
  readonly sent: () => number;
  close(): void;
}

/** Checks the config like vLLM's: only "zmq" or "null" publishers. */
export function checkKvEventsConfig(c: KvEventsConfig): void {
  if (c.publisher !== undefined && c.publisher !== "zmq" && c.publisher !== "null")
    throw new Error(
      `simulator: kv-events publisher must be "zmq" or "null", got ${JSON.stringify(c.publisher)}`,
    );
  if (c.endpoint !== undefined && !/^tcp:\/\//.test(c.endpoint))
    throw new Error(
      `simulator: kv-events endpoint must be tcp://HOST:PORT, got ${JSON.stringify(c.endpoint)}`,
    );
}

/** Publishes `cache`'s events per `config`; undefined when the config disables them. */
export function publishKvEvents(
  cache: PrefixCache,
  config: KvEventsConfig,
  opts: { clock: Clock; log?: (msg: string) => void },
): KvEventPublisher | undefined {
  if (!config.enable_kv_cache_events || config.publisher === "null") return undefined;
  const endpoint = config.endpoint ?? "tcp://*:5557";
  const topic = new TextEncoder().encode(config.topic ?? "");
  const log = opts.log ?? ((m: string) => console.warn(m));
  let seq = 0;
  let closed = false;
  let pub: { send(frames: Uint8Array[]): number; close(): void } | undefined;
  const ready = (async () => {
    const { ZmqPublisher } = await import("../runtime/zmq-socket.ts");
    const p = new ZmqPublisher();
    if (closed) return;
    pub = p;
    if (endpoint.includes("*") || endpoint.includes("::")) await p.bind(endpoint);
    else p.connect(endpoint);
  })().catch((err: unknown) => {
    log(`simulator: KV events not published (${err instanceof Error ? err.message : String(err)})`);
  });
  cache.listen((events) => {
    if (!pub || events.length === 0) return;
    const payload = encodeKvEventBatch({ ts: opts.clock.now() / 1000, events, dataParallelRank: 0 });
    pub.send([topic, seqFrame(seq++), payload]);
  });
  return {
    ready,
    sent: () => seq,
    close() {
      closed = true;
      cache.listen(undefined);
      pub?.close();
    },
  };
}

/**
 * The prefix cache inside an Engine. The engine builds it itself (src/simulator/engine.ts);
 * this reads its `cache` field rather than changing how the engine is built.
 */
export function engineCache(engine: object): PrefixCache {
  const cache = (engine as { cache?: unknown }).cache;
  if (cache === null || typeof cache !== "object" || typeof (cache as PrefixCache).listen !== "function")
    throw new Error("simulator: the engine has no prefix cache to publish KV events from");
  return cache as PrefixCache;
}
