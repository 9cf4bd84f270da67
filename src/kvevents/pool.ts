/**
 * The KV-events pool (llm-d-kv-cache `kvevents.Pool` + `SubscriberManager`): ZMQ
 * subscriptions in, index updates out. Two modes, as upstream:
 *
 * - central (`zmqEndpoint` set, e.g. `tcp://*:5557`): the gateway binds one SUB socket and
 *   every pod's vLLM connects its publisher to it (`--kv-events-config
 *   '{"enable_kv_cache_events":true,"publisher":"zmq","endpoint":"tcp://GATEWAY:5557","topic":"kv@POD_IP@MODEL"}'`);
 *   the pod is named by the topic.
 * - per pod (`discoverPods`, upstream's default): the gateway connects a SUB socket to
 *   each endpoint it schedules, at `tcp://<endpoint host>:<socketPort>` (vLLM's default
 *   `endpoint` is `tcp://*:5557`, a bind); the pod is the endpoint the socket belongs to.
 *
 * A message is `[topic, seq, payload]` (vLLM) or `[topic, payload]`. One that does not
 * decode is counted as malformed and skipped; nothing here throws to the caller.
 */
import type { KvBlockIndex } from "./block-index.ts";
import { decodeKvEventBatch, parseTopic } from "./events.ts";

export interface KvSubscriber {
  bind(endpoint: string): Promise<unknown>;
  connect(endpoint: string): void;
  close(): void;
}

/** Makes a SUB socket (src/runtime/zmq-socket.ts, injected by the Bun and Node entries) so the core stays socket-free. */
export type SubscriberFactory = (
  topics: readonly string[],
  onMessage: (frames: Uint8Array[]) => void,
  onError: (err: Error) => void,
) => KvSubscriber;

/** Upstream's kvEventsConfig (llm-d-kv-cache `kvevents.Config`). */
export interface KvEventsConfig {
  readonly zmqEndpoint: string;
  readonly topicFilter: string;
  readonly discoverPods: boolean;
  readonly socketPort: number;
}

export interface PoolCounters {
  messages: number;
  events: number;
  malformed: number;
  socketErrors: number;
  /** Pods forgotten because their sequence numbers jumped (lost batches) or restarted. */
  resets: number;
}

const MAX_POD_SUBSCRIPTIONS = 4096;

export class KvEventsPool {
  readonly counters: PoolCounters = { messages: 0, events: 0, malformed: 0, socketErrors: 0, resets: 0 };
  private readonly lastSeq = new Map<string, bigint>();
  private central: KvSubscriber | undefined;
  private readonly perPod = new Map<string, { host: string; sub: KvSubscriber }>();
  private closed = false;
  private lastProblem = "";

  constructor(
    private readonly o: {
      readonly config: KvEventsConfig;
      readonly index: KvBlockIndex;
      readonly subscriber: SubscriberFactory;
      readonly log?: (msg: string) => void;
    },
  ) {}

  /** Binds the central socket when `zmqEndpoint` is set; rejects when it cannot. */
  async start(): Promise<void> {
    const { zmqEndpoint, topicFilter } = this.o.config;
    if (!zmqEndpoint || this.central || this.closed) return;
    const sub = this.o.subscriber(
      [topicFilter],
      (frames) => this.handle(frames, undefined),
      () => this.counters.socketErrors++,
    );
    this.central = sub;
    await sub.bind(zmqEndpoint);
  }

  /** Per-pod mode: subscribe to `host` (once per endpoint name; a new host resubscribes). */
  ensurePod(name: string, host: string): void {
    const { discoverPods, socketPort, topicFilter } = this.o.config;
    if (!discoverPods || this.closed) return;
    const had = this.perPod.get(name);
    if (had?.host === host) return;
    had?.sub.close();
    if (!had && this.perPod.size >= MAX_POD_SUBSCRIPTIONS) return;
    const sub = this.o.subscriber(
      [topicFilter],
      (frames) => this.handle(frames, name),
      () => this.counters.socketErrors++,
    );
    const bracketed = host.includes(":") ? `[${host}]` : host;
    sub.connect(`tcp://${bracketed}:${socketPort}`);
    this.perPod.set(name, { host, sub });
  }

  /** The endpoint left: close its subscription and forget what it held. */
  removePod(name: string): void {
    this.perPod.get(name)?.sub.close();
    this.perPod.delete(name);
    this.lastSeq.delete(name);
    this.o.index.cleared(name);
  }

  /** Names of the endpoints subscribed to in per-pod mode. */
  podSubscriptions(): string[] {
    return [...this.perPod.keys()];
  }

  /**
   * vLLM numbers its batches 0, 1, 2, ... per publisher. A gap means batches were lost
   * (a slow subscriber, a reconnect) and a smaller number that the pod restarted with an
   * empty cache: either way what the index holds for the pod is no longer what it has, so
   * it is forgotten (upstream's Reset) and rebuilt from the events that follow.
   */
  private sequence(pod: string, frame: Uint8Array): void {
    if (frame.length !== 8) return;
    const seq = new DataView(frame.buffer, frame.byteOffset, 8).getBigUint64(0);
    const last = this.lastSeq.get(pod);
    if (this.lastSeq.size >= MAX_POD_SUBSCRIPTIONS && last === undefined) return;
    this.lastSeq.set(pod, seq);
    if (last !== undefined && seq !== last + 1n) {
      this.counters.resets++;
      this.o.index.cleared(pod);
    }
  }

  /** Applies one ZMQ message; `pod` names the sender in per-pod mode (else the topic does). */
  handle(frames: readonly Uint8Array[], pod: string | undefined): void {
    this.counters.messages++;
    try {
      if (frames.length < 2 || frames.length > 3) throw new Error(`${frames.length} frames (3 expected)`);
      const topic = new TextDecoder().decode(frames[0]);
      const parsed = parseTopic(topic);
      if (parsed === undefined)
        throw new Error(`topic ${JSON.stringify(topic.slice(0, 80))} is not kv@<pod>@<model>`);
      const batch = decodeKvEventBatch(frames[frames.length - 1]!);
      const who = pod ?? parsed.pod;
      if (frames.length === 3) this.sequence(who, frames[1]!);
      for (const ev of batch.events) {
        this.counters.events++;
        if (ev.kind === "BlockStored") {
          if (ev.medium === undefined || ev.medium.toUpperCase() === "GPU")
            this.o.index.stored(who, parsed.model, ev);
        } else if (ev.kind === "BlockRemoved") {
          if (ev.medium === undefined || ev.medium.toUpperCase() === "GPU")
            this.o.index.removed(who, ev.blockHashes);
        } else this.o.index.cleared(who);
      }
    } catch (err) {
      this.counters.malformed++;
      const problem = err instanceof Error ? err.message : String(err);
      if (problem !== this.lastProblem || this.counters.malformed % 1000 === 1) {
        this.lastProblem = problem;
        this.o.log?.(
          `kv-events: skipped a malformed message (${this.counters.malformed} so far): ${problem}`,
        );
      }
    }
  }

  close(): void {
    this.closed = true;
    this.central?.close();
    for (const { sub } of this.perPod.values()) sub.close();
    this.perPod.clear();
  }
}
