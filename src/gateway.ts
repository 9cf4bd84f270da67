import type { Hono } from "hono";
import { builtinPlugins } from "../plugins/index.ts";
import { createApp } from "./app.ts";
import { type Clock, type Random, type SetTimer, systemClock, systemRandom, systemTimer } from "./clock.ts";
import { ConfigError } from "./config/errors.ts";
import { ConfigHolder } from "./config/holder.ts";
import type { GatewayConfig } from "./config/load.ts";
import { poolOfEndpoint } from "./config/pools.ts";
import type { StaticEndpoint } from "./config/settings.ts";
import type { FetchFn, GatewayDeps } from "./deps.ts";
import { directRoutesOf, offerDirectRoutes } from "./direct-routes.ts";
import { PassiveHealth } from "./endpoints/health.ts";
import { InFlight } from "./endpoints/inflight.ts";
import { keepLearned } from "./endpoints/keep-learned.ts";
import type { Endpoint } from "./endpoints/types.ts";
import type { GatewayEnv } from "./env.ts";
import type { FlowPlugins } from "./flow/admitter.ts";
import type { SubscriberFactory } from "./kvevents/pool.ts";
import { Closing } from "./lifecycle.ts";
import { createLogger, type Logger } from "./log.ts";
import { flowMetrics } from "./metrics/flow-metrics.ts";
import { createGatewayMetrics } from "./metrics/gateway-metrics.ts";
import { registerPoolMetrics } from "./metrics/pool-metrics.ts";
import { schedulerMetrics } from "./metrics/scheduler-metrics.ts";
import { AfterAnswer } from "./observability/after-answer.ts";
import { RecentRequests } from "./observability/recent.ts";
import { createResponseHomes } from "./openai/response-homes.ts";
import type { Pool } from "./pools/pool.ts";
import { PoolSet } from "./pools/set.ts";
import { decodingFetch } from "./proxy/decode.ts";
import type { DirectStreams } from "./proxy/relay.ts";
import { loadConfig } from "./scheduling/framework/load-config.ts";
import type { PluginRegistry } from "./scheduling/framework/registry.ts";
import { schedulingPart } from "./scheduling/pool-scheduler.ts";
import { PrefixIndex } from "./scheduling/prefix/prefix-index.ts";

export interface GatewayOptions {
  config: GatewayConfig;
  /** Endpoints besides the config's static ones (e.g. the embedded simulated pods). */
  endpoints?: readonly StaticEndpoint[];
  clock?: Clock;
  random?: Random;
  /** Timers for passive health, attempts and relays (tests pass a fake). */
  setTimer?: SetTimer;
  fetch?: FetchFn;
  logger?: Logger;
  /**
   * The scheduling registry and flow-control plugins to build from; the built-ins of
   * `plugins/index.ts` when absent (a test or an embedder adds its own plugins here).
   */
  plugins?: GatewayPlugins;
  /**
   * The TCP subscriber precise prefix-cache routing reads vLLM's KV events with: the Bun and
   * Node entries pass src/runtime/zmq-socket.ts; without it (Workers, Deno) precise mode
   * falls back to the approximate index. Used by the built-in plugins only.
   */
  kvSubscriber?: SubscriberFactory;
  /**
   * Streamed answers relayed as the runtime's direct streams (Bun's `type: "direct"`: each
   * chunk written straight to the response, src/proxy/relay.ts); the Bun entry sets it.
   * A function builds the runtime's own (the Node entry: src/runtime/node-relay.ts).
   * Elsewhere, and when absent, a standard pull stream.
   */
  directStreams?: DirectStreams;
}

/** What the composition root hands the framework: every plugin it may build. */
export interface GatewayPlugins {
  readonly registry: PluginRegistry;
  readonly flow: FlowPlugins;
}

export interface Gateway {
  readonly app: Hono<GatewayEnv>;
  readonly deps: GatewayDeps;
  /** The app's fetch handler, for any runtime's server. */
  readonly fetch: (request: Request) => Response | Promise<Response>;
  /**
   * Starts background work: model discovery and metrics scraping. Idempotent. With
   * `timers: false` nothing runs by itself and `refresh()` does each round (Workers).
   */
  start(opts?: { timers?: boolean }): void;
  /**
   * Checks a config's EndpointPickerConfig against this gateway's plugins (types and
   * parameters) without building a scheduler: a reload calls it before swapping a config
   * in. Throws ConfigError naming the field.
   */
  checkConfig(config: GatewayConfig): void;
  /** One round of background work now: scrape every endpoint's metrics; with `models`, ask /v1/models too. */
  refresh(opts?: { models?: boolean }): Promise<void>;
  /**
   * Stops background work (scrapers, watchers) and ends every request: queued ones get
   * 503 `rejected-shutting-down`, running ones a 503 body (no header sent yet) or an SSE
   * error event. Those answers are written as the server drains: close it after this.
   */
  stop(): Promise<void>;
}

/**
 * The composition root: wires the data layer, scheduling and flow control around one
 * app, with the plugins registered in `plugins/index.ts` (the only place that imports
 * them). Web-standard only.
 */
export function createGateway(opts: GatewayOptions): Gateway {
  const config = new ConfigHolder(opts.config);
  const plugins =
    opts.plugins ?? builtinPlugins(opts.kvSubscriber ? { kvSubscriber: opts.kvSubscriber } : {});
  const checkConfig = (c: GatewayConfig) => {
    try {
      for (const p of c.pools) checkPickerConfig(p.pickerConfig, plugins.registry);
    } catch (err) {
      throw err instanceof ConfigError && c.file && !err.file ? err.inFile(c.file) : err;
    }
  };
  // A plugin type or parameter the registry cannot build stops start-up here, naming the field.
  checkConfig(opts.config);
  const clock = opts.clock ?? systemClock;
  const random = opts.random ?? systemRandom;
  const logger = opts.logger ?? createLogger(opts.config.settings.logLevel);
  const setTimer = opts.setTimer ?? systemTimer;
  const statics = (c: GatewayConfig) => [...c.settings.endpoints, ...(opts.endpoints ?? [])];
  /**
   * True unless the config (or the embedded pods) gives this endpoint's models. A loop, not
   * `some` with an arrow: model discovery asks it for every endpoint each round, and a closure
   * made per call gets its optimized callers thrown away whenever JSC ages this code out
   * (docs/overhead-streaming.md, nineteenth pass).
   */
  const learns = (c: GatewayConfig, name: string) => {
    for (const e of c.settings.endpoints) if (e.name === name && e.models.length > 0) return false;
    for (const e of opts.endpoints ?? []) if (e.name === name && e.models.length > 0) return false;
    return true;
  };
  const inflight = new InFlight();
  const metrics = createGatewayMetrics();
  // Decodes compressed answers itself: a pod lying about gzip gets a clean 502, not a bare console line.
  const fetchFn: FetchFn = opts.fetch ?? decodingFetch((url, init) => fetch(url, init));
  const closing = new Closing();
  const health = new PassiveHealth({
    logger,
    setTimer,
    ejectAfterFailures: () => config.current.settings.upstream.ejectAfterFailures,
    ejectionMs: () => config.current.settings.upstream.ejectionMs,
    maxEjectionMs: () => config.current.settings.upstream.maxEjectionMs,
    failureWindow: () => config.current.settings.upstream.failureWindow,
    maxFailureRate: () => config.current.settings.upstream.maxFailureRate,
    // A gate before probation, not the way back: real answers decide that.
    probe: async (name) => {
      const e = pools
        .list()
        .map((p) => p.endpoints.get(name))
        .find((x) => x !== undefined);
      if (!e) return false;
      const res = await fetchFn(`http://${e.address}/health`, {
        method: "GET",
        signal: AbortSignal.timeout(2000),
      });
      await res.body?.cancel();
      return res.ok;
    },
  });
  // Registration order is exposition order (the golden /metrics file): flow, scheduler, pool.
  const flowSeries = flowMetrics({ metrics });
  const schedMetrics = schedulerMetrics(metrics.registry);
  const { scrapeErrors } = registerPoolMetrics({
    registry: metrics.registry,
    pools: () => pools.list(),
    clock,
    stalenessMs: () => config.current.settings.dataLayer.stalenessMs,
    isEjected: (name) => health.isEjected(name),
  });
  // Static endpoints follow config reloads, each to its pool; with Kubernetes discovery the
  // cluster owns the sets. A reload keeps the models learned from endpoints that stay.
  const feed = opts.config.settings.kubernetes
    ? undefined
    : (pool: Pool, next: GatewayConfig, before: GatewayConfig | undefined) => {
        const mine = statics(next)
          .filter((e) => poolOfEndpoint(e, next.pools) === pool.name)
          .map(toEndpoint);
        if (!before) return pool.endpoints.upsert(mine);
        const stillLearns = (name: string) => learns(before, name) && learns(next, name);
        pool.endpoints.replaceAll(keepLearned(pool.endpoints, mine, stillLearns));
      };
  const pools = new PoolSet(
    config,
    {
      registry: plugins.registry,
      flowPlugins: plugins.flow,
      inflight,
      health,
      clock,
      random,
      setTimer,
      logger,
      fetch: fetchFn,
      flowMetrics: flowSeries,
      schedulerMetrics: schedMetrics,
      scrapeErrors,
      learns: (name) => learns(config.current, name),
    },
    feed,
  );
  if (feed) {
    // An endpoint no pool takes serves nothing: say so (at start-up and after each reload).
    let said = "";
    const warnUnpooled = (c: GatewayConfig) => {
      const left = statics(c).filter((e) => poolOfEndpoint(e, c.pools) === undefined);
      const text = left
        .map((e) => `${e.name} (labels ${JSON.stringify(e.labels)}${e.pool ? `, pool '${e.pool}'` : ""})`)
        .join(", ");
      if (text && text !== said)
        logger.warn(
          `config: endpoints in no pool, so never used: ${text}; give each a pool: field or the labels of a pool's spec.selector.matchLabels (pools: ${c.pools.map((p) => `'${p.name}'`).join(", ")})`,
        );
      said = text;
    };
    warnUnpooled(opts.config);
    config.onSwap(warnUnpooled);
  }
  const deps: GatewayDeps = {
    config,
    pools,
    // The first pool's parts, for single-pool callers; requests use their own pool (the Exchange's pool).
    get endpoints() {
      return pools.first().endpoints;
    },
    get scheduler() {
      return pools.first().scheduler;
    },
    get admitter() {
      return pools.first().admitter;
    },
    get flow() {
      return pools.first().flow;
    },
    get saturation() {
      return pools.first().saturation;
    },
    inflight,
    health,
    responseHomes: createResponseHomes(),
    recent: new RecentRequests(),
    afterAnswer: new AfterAnswer(),
    metrics,
    logger,
    clock,
    random,
    setTimer,
    fetch: fetchFn,
    directStreams: opts.directStreams ?? false,
    lifecycle: { shuttingDown: false, closing },
  };
  const app = createApp(deps);
  let started = false;
  return {
    app,
    deps,
    // The app's exact-path table stays offered on the handler the runtime's server gets.
    fetch: offerDirectRoutes((request: Request) => app.fetch(request), directRoutesOf(app.fetch)),
    checkConfig,
    start({ timers = true } = {}) {
      if (started) return;
      started = true;
      pools.start(timers);
    },
    async refresh({ models = false } = {}) {
      await pools.refresh(models);
    },
    async stop() {
      deps.afterAnswer.drain();
      closing.close();
      health.stop();
      pools.stop();
    },
  };
}

/**
 * Builds an EndpointPickerConfig's scheduling plugins and profiles once, with no scheduler,
 * so a bad plugin type or parameter is a ConfigError before the config is used.
 */
export function checkPickerConfig(picker: GatewayConfig["pickerConfig"], registry: PluginRegistry): void {
  loadConfig(schedulingPart(picker, registry), registry, {
    random: Math.random,
    clock: { now: () => 0 },
    prefixIndex: new PrefixIndex(),
  });
}

export function toEndpoint(e: StaticEndpoint): Omit<Endpoint, "metrics"> {
  return { name: e.name, address: e.address, labels: e.labels, engine: e.engine, models: new Set(e.models) };
}
