import { type SetTimer, systemTimer } from "../clock.ts";
import type { FetchFn } from "../deps.ts";
import type { Logger } from "../log.ts";
import type { EndpointStore } from "./store.ts";

export interface ModelDiscoveryOptions {
  store: EndpointStore;
  fetch: FetchFn;
  logger: Logger;
  /** Which endpoints to ask; those with models given in config are left alone. */
  shouldLearn: (name: string) => boolean;
  intervalMs?: number;
  timeoutMs?: number;
  /** false: no timer; only `refresh()` asks (e.g. from a Durable Object's alarm). Default true. */
  timers?: boolean;
  /** The round timer and each ask's timeout; default real timers (tests pass a fake). */
  setTimer?: SetTimer;
}

/**
 * Learns which models (base models and LoRA adapters) each endpoint serves from its
 * OpenAI `/v1/models`, at start and then `intervalMs` after each round ends, so rewritten
 * requests only go to endpoints that serve the target. With timers, an endpoint that
 * appears (or moves to a new address) is asked at once rather than at the next round:
 * until then it counts as serving any model. A failed ask keeps what was known.
 * Answers are read to the end (errors too) so the connection to the pod is kept alive.
 */
export function startModelDiscovery(opts: ModelDiscoveryOptions): { refresh(): Promise<void>; stop(): void } {
  const { store, intervalMs = 5000, timeoutMs = 2000 } = opts;
  const setTimer = opts.setTimer ?? systemTimer;
  let stopped = false;
  let cancelTimer: (() => void) | undefined;
  const inFlight = new Set<AbortController>();
  /** The address each endpoint was last asked at. */
  const asked = new Map<string, string>();

  async function ask(name: string, address: string): Promise<void> {
    const ctl = new AbortController();
    inFlight.add(ctl);
    const cancelTimeout = setTimer(
      () => ctl.abort(new DOMException(`GET /v1/models timed out after ${timeoutMs} ms`, "TimeoutError")),
      timeoutMs,
    );
    try {
      const res = await opts.fetch(`http://${address}/v1/models`, { method: "GET", signal: ctl.signal });
      const text = await res.text();
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const body = JSON.parse(text) as { data?: { id?: unknown }[] };
      const ids = (body.data ?? []).map((m) => m.id).filter((id): id is string => typeof id === "string");
      if (!stopped) store.setModels(name, new Set(ids));
    } catch (err) {
      const error = ctl.signal.aborted
        ? String((ctl.signal.reason as Error)?.message)
        : (err as Error).message;
      opts.logger.debug("model discovery failed", { endpoint: name, error });
    } finally {
      cancelTimeout();
      inFlight.delete(ctl);
    }
  }

  async function refresh(): Promise<void> {
    const asks = store
      .list()
      .filter((e) => opts.shouldLearn(e.name))
      .map((e) => {
        asked.set(e.name, e.address);
        return ask(e.name, e.address);
      });
    await Promise.all(asks);
  }

  /** Asks the endpoints not asked yet at their current address; forgets removed ones. */
  function askNewcomers(): void {
    if (stopped) return;
    const present = new Set<string>();
    for (const e of store.list()) {
      present.add(e.name);
      if (asked.get(e.name) === e.address || !opts.shouldLearn(e.name)) continue;
      asked.set(e.name, e.address);
      void ask(e.name, e.address);
    }
    for (const name of asked.keys()) if (!present.has(name)) asked.delete(name);
  }

  function loop(): void {
    cancelTimer = undefined;
    if (stopped) return;
    void refresh().finally(() => {
      if (!stopped) cancelTimer = setTimer(loop, intervalMs);
    });
  }
  let unsubscribe: (() => void) | undefined;
  if (opts.timers !== false) {
    loop();
    unsubscribe = store.onChange(askNewcomers);
  }
  return {
    refresh,
    stop() {
      stopped = true;
      unsubscribe?.();
      cancelTimer?.();
      for (const ctl of inFlight) ctl.abort(new DOMException("model discovery stopped", "AbortError"));
    },
  };
}
