import type { Counter } from "prom-client";
import type { Clock, SetTimer } from "../clock.ts";
import type { ConfigHolder } from "../config/holder.ts";
import { BUILTIN_ENGINES, type EngineMapping, mergeEngineMappings } from "../datalayer/engines.ts";
import { createScraper, type ScrapeTarget } from "../datalayer/scraper.ts";
import type { FetchFn } from "../deps.ts";
import type { Logger } from "../log.ts";
import type { EndpointStore } from "./store.ts";
import type { Endpoint } from "./types.ts";

/** Pod labels that name the model-server engine (llm-d's and GIE's spellings). */
const ENGINE_LABELS = ["llm-d.ai/engine-type", "inference.networking.k8s.io/engine-type"];

/** The engine of an endpoint: its pod label, else what config says, else vLLM. */
export function engineOf(endpoint: Pick<Endpoint, "labels" | "engine">): string {
  for (const label of ENGINE_LABELS) {
    const v = endpoint.labels[label];
    if (v) return v;
  }
  return endpoint.engine || "vllm";
}

/**
 * Keeps every endpoint's metrics snapshot fresh: the scraper follows the store's
 * membership, and each scrape swaps that endpoint's snapshot and scrape status (what
 * `preferFresh` reads to keep lagging pods out of scheduling). Listeners (flow control)
 * hear about every refresh.
 */
export function startScraping(opts: {
  config: ConfigHolder;
  store: EndpointStore;
  fetch: FetchFn;
  clock: Clock;
  /** Default: real timers. */
  setTimer?: SetTimer;
  logger: Logger;
  scrapeErrors: Counter<"name" | "model_server_pod">;
  /** The pool these endpoints belong to (the scrape error counter's `name`). */
  poolName?: string;
  onRefresh?: () => void;
  /** false: nothing is scheduled; `scrapeNow()` scrapes (see ScraperOptions.timers). */
  timers?: boolean;
}): { stop(): void; scrapeNow(): Promise<void> } {
  const { store, config } = opts;
  const data = config.current.settings.dataLayer;
  const timers = opts.timers ?? true;
  const engines = mergeEngineMappings(BUILTIN_ENGINES, data.engines);
  const warnMissing = missingMetricWarner(store, engines, opts.logger);
  const streaks = failureStreaks(opts.logger);
  const scraper = createScraper({
    fetch: opts.fetch,
    clock: opts.clock,
    ...(opts.setTimer ? { setTimer: opts.setTimer } : {}),
    intervalMs: data.scrapeIntervalMs,
    timeoutMs: data.scrapeTimeoutMs,
    // A late scrape may still land until its snapshot would have gone stale anyway. Not
    // without timers: there a round (a Durable Object alarm) waits for its slowest scrape,
    // and every pod's next scrape with it.
    abandonAfterMs: data.scrapeTimeoutMs + (timers ? data.stalenessMs : 0),
    byName: data.scrapeByName,
    timers,
    engines,
    onMissing: warnMissing.warn,
    onSnapshot: (name, snapshot) => {
      store.setMetrics(name, snapshot);
      streaks.succeeded(name);
      opts.onRefresh?.();
    },
    onStatus: (name, status) => store.setScrapeStatus(name, status),
    onError: (name, err) => {
      opts.scrapeErrors.inc({
        name: opts.poolName ?? config.current.pool?.metadata.name ?? "default",
        model_server_pod: name,
      });
      streaks.failed(name, err instanceof Error ? err.message : String(err));
    },
  });
  const targets = (): ScrapeTarget[] =>
    store.list().map((e) => ({ name: e.name, url: `http://${e.address}/metrics`, engine: engineOf(e) }));
  scraper.setTargets(targets());
  const unsubscribe = store.onChange(() => {
    scraper.setTargets(targets());
    streaks.keepOnly(store);
    warnMissing.keepOnly(store);
  });
  return {
    stop() {
      unsubscribe();
      scraper.stop();
    },
    scrapeNow: () => scraper.scrapeNow(),
  };
}

/**
 * A failing scrape takes its endpoint out of scheduling (datalayer/freshness.ts), so the
 * first failure of a streak is a warning that says so, the rest are debug lines, and the
 * first success after it is an info line.
 */
function failureStreaks(logger: Logger) {
  const failing = new Set<string>();
  return {
    failed(name: string, error: string): void {
      if (failing.has(name)) {
        logger.debug("metrics scrape failed", { endpoint: name, error });
        return;
      }
      failing.add(name);
      logger.warn(
        `metrics scrape of endpoint ${name} failed: it gets no new requests while other endpoints have current metrics; ` +
          "check that the pod answers GET /metrics, and its engine label or setting",
        { endpoint: name, error },
      );
    },
    succeeded(name: string): void {
      if (failing.delete(name)) logger.info("metrics scrape recovered", { endpoint: name });
    },
    /** Forgets endpoints that left the store. */
    keepOnly(store: EndpointStore): void {
      for (const name of failing) if (!store.get(name)) failing.delete(name);
    },
  };
}

/**
 * One warning per endpoint and field whose configured metrics the pod never exports
 * (e.g. a llama-server without `llamacpp:kv_cache_usage_ratio`): that field reads 0
 * forever, which scheduling would otherwise take as "idle" in silence. Endpoints that leave
 * are forgotten (pod names churn under Kubernetes: the set must not grow with them); one
 * that comes back is warned about again.
 */
function missingMetricWarner(
  store: EndpointStore,
  engines: Readonly<Record<string, EngineMapping>>,
  logger: Logger,
) {
  /** Endpoint name → the fields already warned about. */
  const warned = new Map<string, Set<string>>();
  const warn = (name: string, fields: readonly string[]): void => {
    const endpoint = store.get(name);
    if (!endpoint) return; // a late scrape of an endpoint that has left
    const engine = engineOf(endpoint);
    for (const field of fields) {
      const refs = engines[engine]?.[field as "waiting" | "running" | "kvUsage"] ?? [];
      const done = warned.get(name) ?? new Set<string>();
      if (refs.length === 0 || done.has(field)) continue;
      warned.set(name, done.add(field));
      const names = refs.map((r) => (typeof r === "string" ? r : r.name)).join(", ");
      logger.warn(
        `endpoint ${name} (engine ${engine}) exports none of the ${field} metrics (${names}): ${field} reads 0 for it; ` +
          `fix dataLayer.engines.${engine}.${field} (or leave it out if the engine has no such metric)`,
        { endpoint: name, engine, field, metrics: names },
      );
    }
  };
  return {
    warn,
    /** Forgets endpoints that left the store. */
    keepOnly(store: EndpointStore): void {
      for (const name of warned.keys()) if (!store.get(name)) warned.delete(name);
    },
  };
}
