/**
 * One gateway's KV-event state, shared by its precise-prefix-cache plugin instances:
 * a config reload or `checkConfig` builds new plugin instances, and they must not bind
 * the same port twice or lose what the index learned. Each distinct configuration (the
 * events settings, block size, seed, bounds) gets one `PreciseState` (index + pool),
 * created on first use and started lazily, on the first scheduling decision, never by
 * merely building (checking) a config.
 *
 * The TCP subscriber is injected (`subscriber`, or `loadSubscriber`): the Bun and Node
 * entries give src/runtime/zmq-socket.ts (`node:net`), so the core never imports a socket.
 * When the sockets cannot be had (no transport on this runtime, e.g. Workers; a port already
 * bound) the state is `failed` with the reason, logged once, and the plugins fall back to
 * the approximate prefix index.
 */
import type { Clock } from "../clock.ts";
import { type BlockIndexOptions, KvBlockIndex } from "./block-index.ts";
import { type KvEventsConfig, KvEventsPool, type SubscriberFactory } from "./pool.ts";

export interface PreciseSettings extends Omit<BlockIndexOptions, "clock"> {
  readonly events: KvEventsConfig;
}

export interface PreciseState {
  readonly index: KvBlockIndex;
  readonly pool: KvEventsPool;
  readonly settings: PreciseSettings;
  /** "starting" until the sockets are up; "failed" (with `reason`) means fall back. */
  status: "idle" | "starting" | "ready" | "failed";
  reason?: string;
  /** Starts once; later calls are no-ops. */
  start(): void;
}

export interface KvEventsHubOptions {
  readonly clock: Clock;
  /** The TCP subscriber (the runtime entry's); without it and `loadSubscriber`, precise mode falls back. */
  readonly subscriber?: SubscriberFactory;
  /** Gets the subscriber on first start; may refuse with why. */
  readonly loadSubscriber?: () => Promise<SubscriberFactory>;
  readonly log?: (msg: string) => void;
}

async function noTransport(): Promise<SubscriberFactory> {
  throw new Error(
    "this runtime gives the gateway no TCP sockets for KV events (the Bun and Node entries do)",
  );
}

export class KvEventsHub {
  private readonly states = new Map<string, PreciseState>();

  /** Where the plugins' runtime problems are logged (once per kind). */
  readonly log: (msg: string) => void;

  constructor(private readonly o: KvEventsHubOptions) {
    this.log = o.log ?? ((m: string) => console.warn(m));
  }

  /** The state for these settings (one per distinct settings, per hub). */
  state(settings: PreciseSettings, clock: Clock = this.o.clock): PreciseState {
    const key = JSON.stringify(settings);
    const had = this.states.get(key);
    if (had) return had;
    const log = this.log;
    const hub = this;
    const index = new KvBlockIndex({ ...settings, clock });
    let factory: SubscriberFactory | undefined = this.o.subscriber;
    const lazy: SubscriberFactory = (topics, onMessage, onError) => {
      if (!factory) throw new Error("kv-events: the subscriber was used before it loaded");
      return factory(topics, onMessage, onError);
    };
    const pool = new KvEventsPool({ config: settings.events, index, subscriber: lazy, log });
    const state: PreciseState = {
      index,
      pool,
      settings,
      status: "idle",
      start() {
        if (state.status !== "idle") return;
        state.status = "starting";
        (async () => {
          factory ??= await (hub.o.loadSubscriber ?? noTransport)();
          await pool.start();
          state.status = "ready";
        })().catch((err: unknown) => {
          state.status = "failed";
          state.reason = err instanceof Error ? err.message : String(err);
          log(
            `precise-prefix-cache: KV events unavailable (${state.reason}); scoring with the approximate prefix index instead`,
          );
        });
      },
    };
    this.states.set(key, state);
    return state;
  }

  /** Every state made so far (one per distinct settings). */
  all(): PreciseState[] {
    return [...this.states.values()];
  }

  /** Closes every subscription (the gateway stops). */
  close(): void {
    for (const s of this.states.values()) s.pool.close();
    this.states.clear();
  }
}
