import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { watchAdvice } from "../config/advice.ts";
import { ConfigError } from "../config/errors.ts";
import { type GatewayConfig, parseConfig } from "../config/load.ts";
import { reloadConfig } from "../config/reload.ts";
import type { StaticEndpoint } from "../config/settings.ts";
import type { FetchFn } from "../deps.ts";
import { createGateway, type Gateway } from "../gateway.ts";
import type { SubscriberFactory } from "../kvevents/pool.ts";
import { createLogger, type LogLevel } from "../log.ts";
import type { Later } from "../observability/after-answer.ts";
import type { DirectStreams } from "../proxy/relay.ts";
import { startSimulators } from "../simulator/index.ts";
import { banner } from "./banner.ts";
import { type CliOptions, parseCli, USAGE } from "./cli.ts";
import { attachKubernetes } from "./kubernetes.ts";
import { ListenError, listen } from "./listen.ts";
import { resolveSecrets } from "./secrets.ts";
import type { RunningServer, ServeFn } from "./server.ts";
import { drainAndStop } from "./shutdown.ts";
import { warmUp } from "./warm-up.ts";
import { watchConfigFile } from "./watch-config.ts";

export const DEFAULT_CONFIG = fileURLToPath(new URL("../../examples/quickstart.yaml", import.meta.url));

export interface Started {
  gateway: Gateway;
  server: RunningServer;
  /** Drains and stops everything (pods, server, background work). */
  shutdown(): Promise<void>;
}

/**
 * Loads a config file; a ConfigError names the file, the field and what was expected. The
 * text comes back too: the watcher compares later reads with what was actually loaded.
 */
export async function loadConfigFile(file: string): Promise<{ config: GatewayConfig; text: string }> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new ConfigError({ file, path: "", expected: `a readable file (${(err as Error).message})` });
  }
  return { config: await resolveSecrets(parseConfig(text, file), process.env), text };
}

/** The process entry shared by the Bun and Node runtimes: CLI → config → pods → app → listen. */
export async function main(opts: {
  serve: ServeFn;
  runtime: string;
  argv: string[];
  env: Record<string, string | undefined>;
  /** The upstream fetch (Node passes one on undici.request); the runtime's fetch when absent. */
  fetch?: FetchFn;
  /** TCP sockets for vLLM KV events (Bun and Node pass zmq-socket.ts); precise mode falls back without. */
  kvSubscriber?: SubscriberFactory;
  /** Streamed answers as the runtime's direct streams (the Bun entry: GatewayOptions.directStreams). */
  directStreams?: DirectStreams;
  /**
   * How the gateway writes a request's records after its answer has left (the Bun and Node
   * entries: `setImmediate`; src/observability/after-answer.ts). Unset: at once.
   */
  afterAnswer?: Later;
}): Promise<Started | undefined> {
  let cli: ReturnType<typeof parseCli>;
  try {
    cli = parseCli(opts.argv, opts.env);
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return undefined;
  }
  if (cli.help) {
    console.log(USAGE);
    return undefined;
  }
  const file = cli.config ?? DEFAULT_CONFIG;
  let config: GatewayConfig;
  let loadedText: string;
  try {
    ({ config, text: loadedText } = await loadConfigFile(file));
  } catch (err) {
    console.error(`config error: ${(err as Error).message}`);
    process.exitCode = 1;
    return undefined;
  }
  const settings = overrideFromCli(config, cli).settings;
  const logger = createLogger(settings.logLevel);

  const sim = settings.simulator;
  const podServe: ServeFn = (o) => listen(opts.serve, o, `simulated pod (simulator.pods port ${o.port})`);
  let pods: Awaited<ReturnType<typeof startSimulators>>;
  try {
    pods = sim
      ? await startSimulators(
          podServe,
          sim.pods.map((p) => ({ ...p, hostname: sim.hostname, timeScale: sim.timeScale })),
        )
      : [];
  } catch (err) {
    if (!(err instanceof ListenError)) throw err;
    console.error(`start-up error: ${err.message}`);
    process.exitCode = 1;
    return undefined;
  }
  const podEndpoints: StaticEndpoint[] = pods.map((p, i) => ({
    name: `sim-${i}`,
    address: `${sim?.hostname ?? "127.0.0.1"}:${p.port}`,
    labels: { app: "sim", ...(sim?.pods[i]?.labels ?? {}) },
    engine: "vllm",
    models: [p.model, ...(sim?.pods[i]?.loras ?? [])],
    ...(sim?.pods[i]?.pool ? { pool: sim.pods[i]!.pool } : {}),
  }));

  let gateway: ReturnType<typeof createGateway>;
  try {
    gateway = createGateway({
      config,
      endpoints: podEndpoints,
      logger,
      ...(opts.kvSubscriber ? { kvSubscriber: opts.kvSubscriber } : {}),
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      ...(opts.directStreams ? { directStreams: opts.directStreams } : {}),
    });
  } catch (err) {
    // A plugin type or parameter the gateway cannot build: the same answer as a bad file.
    if (!(err instanceof ConfigError)) throw err;
    console.error(`config error: ${err.message}`);
    await Promise.all(pods.map((p) => p.close()));
    process.exitCode = 1;
    return undefined;
  }
  let cluster: Awaited<ReturnType<typeof attachKubernetes>> | undefined;
  try {
    cluster = settings.kubernetes ? await attachKubernetes({ gateway, logger }) : undefined;
  } catch (err) {
    // Settings that name no pool, or a kubeconfig that cannot be read: the answer to a bad file.
    if (!(err instanceof ConfigError)) throw err;
    console.error(`config error: ${err.message}`);
    await gateway.stop();
    await Promise.all(pods.map((p) => p.close()));
    process.exitCode = 1;
    return undefined;
  }
  if (opts.afterAnswer) gateway.deps.afterAnswer.defer(opts.afterAnswer);
  // Before the listener opens (and so before a readiness probe can pass): the request path
  // compiled on a throwaway gateway, so the first users do not pay for it (warm-up.ts).
  if (settings.warmUpMs > 0) {
    const warmed = await warmUp({
      serve: opts.serve,
      budgetMs: settings.warmUpMs,
      logger,
      ...(opts.fetch ? { upstream: opts.fetch } : {}),
      ...(opts.directStreams ? { directStreams: opts.directStreams } : {}),
      ...(opts.afterAnswer ? { afterAnswer: opts.afterAnswer } : {}),
    });
    logger.info("start-up warm-up done", { ...warmed });
  }
  gateway.start();
  const stopAdvice = watchAdvice({ config: gateway.deps.config, pools: gateway.deps.pools, logger });
  let server: RunningServer;
  try {
    server = await listen(
      opts.serve,
      { fetch: gateway.fetch, port: settings.port, hostname: settings.hostname },
      "the gateway",
    );
  } catch (err) {
    if (!(err instanceof ListenError)) throw err;
    console.error(`start-up error: ${err.message} (--port, GATEWAY_PORT or port in the config)`);
    stopAdvice();
    await cluster?.stop();
    await gateway.stop();
    await Promise.all(pods.map((p) => p.close()));
    process.exitCode = 1;
    return undefined;
  }
  const shown = settings.hostname === "0.0.0.0" ? "localhost" : settings.hostname;
  logger.info("gateway listening", {
    runtime: opts.runtime,
    url: `http://${shown}:${server.port}`,
    config: file,
    pools: Object.fromEntries(
      gateway.deps.pools.list().map((p) => [p.name, p.endpoints.list().map((e) => `${e.name}=${e.address}`)]),
    ),
  });
  // Watch from here on: an edit made since the file was loaded is picked up too.
  const unwatchFile = watchConfigFile(
    file,
    async (text, stableForMs) => {
      const result = await reloadConfig(gateway.deps.config, text, file, logger, {
        stableForMs,
        prepare: async (next) => {
          overrideFromCli(next, cli);
          gateway.checkConfig(next); // plugin types and parameters, before it is swapped in
          const resolved = await resolveSecrets(next, process.env);
          return cluster ? cluster.overlay.apply(resolved) : resolved;
        },
      });
      return typeof result === "object" ? result : undefined;
    },
    { loadedText, ...(cli.settleMs !== undefined ? { settleMs: cli.settleMs } : {}) },
  );
  if (settings.logLevel !== "silent") {
    // Endpoints whose models are learned: give the first /v1/models round a moment to answer.
    await Promise.race([
      gateway.refresh({ models: true }),
      new Promise((r) => setTimeout(r, 2000).unref?.()),
    ]);
    console.log(
      banner({
        url: `http://${shown}:${server.port}`,
        runtime: opts.runtime,
        pools: gateway.deps.pools.list().map((p) => ({
          name: p.name,
          endpoints: p.endpoints.list(),
          config: p.config.current,
        })),
      }),
    );
  }

  const unwatch = () => {
    unwatchFile();
    stopAdvice();
  };

  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    (stopping ??= (async () => {
      unwatch();
      // Refuse new requests, drain up to the grace, then answer what is left before closing.
      await drainAndStop({
        gateway,
        server,
        graceMs: settings.shutdownGraceMs,
        logger,
        beforeStop: () => cluster?.stop(),
      });
      await Promise.all(pods.map((p) => p.close()));
    })());
  return { gateway, server, shutdown };
}

/** Flags and environment win over the file, at start-up and on every reload. */
function overrideFromCli(config: GatewayConfig, cli: CliOptions): GatewayConfig {
  const settings = config.settings;
  if (cli.port !== undefined) settings.port = cli.port;
  if (cli.host) settings.hostname = cli.host;
  if (cli.logLevel) settings.logLevel = cli.logLevel as LogLevel;
  if (cli.warmUpMs !== undefined) settings.warmUpMs = cli.warmUpMs;
  return config;
}

/** Wires SIGINT/SIGTERM to a graceful shutdown; the log line is JSON like every other. */
export function exitOnSignals(started: Started): void {
  const stop = (signal: string) => {
    started.gateway.deps.logger.warn(`received ${signal}, shutting down`, { signal });
    void started.shutdown().then(() => {
      // Records of the requests answered while the server closed (after the gateway's stop
      // drained), written before the logger's last flush (an entry that defers them).
      started.gateway.deps.afterAnswer.drain();
      started.gateway.deps.logger.flush?.();
      process.exit(0);
    });
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
}
