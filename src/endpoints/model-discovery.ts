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
}

/**
 * Learns which models (base models and LoRA adapters) each endpoint serves from its
 * OpenAI `/v1/models`, at start and then every `intervalMs`, so rewritten requests
 * only go to endpoints that serve the target. A failed ask keeps what was known.
 */
export function startModelDiscovery(opts: ModelDiscoveryOptions): { refresh(): Promise<void>; stop(): void } {
  const { store, intervalMs = 5000, timeoutMs = 2000 } = opts;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  async function ask(name: string, address: string): Promise<void> {
    try {
      const res = await opts.fetch(`http://${address}/v1/models`, {
        method: "GET",
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const body = (await res.json()) as { data?: { id?: unknown }[] };
      const ids = (body.data ?? []).map((m) => m.id).filter((id): id is string => typeof id === "string");
      store.setModels(name, new Set(ids));
    } catch (err) {
      opts.logger.debug("model discovery failed", { endpoint: name, error: (err as Error).message });
    }
  }

  async function refresh(): Promise<void> {
    const asks = store
      .list()
      .filter((e) => opts.shouldLearn(e.name))
      .map((e) => ask(e.name, e.address));
    await Promise.all(asks);
  }

  function loop(): void {
    if (stopped) return;
    void refresh().finally(() => {
      if (!stopped) timer = setTimeout(loop, intervalMs);
    });
  }
  if (opts.timers !== false) loop();
  return {
    refresh,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
