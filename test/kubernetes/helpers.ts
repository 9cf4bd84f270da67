/** Shared harness for discovery tests: a fake API server, a kubeconfig, recorded callbacks. */
import type { InferenceObjective, InferencePool } from "../../src/config/resources.ts";
import type { Endpoint } from "../../src/endpoints/types.ts";
import {
  type DiscoveredPool,
  type KubernetesDiscovery,
  startKubernetesDiscovery,
  type WatchTuning,
} from "../../src/kubernetes/index.ts";
import { createLogger } from "../../src/log.ts";
import type { InferenceModelRewrite } from "../../src/rewrite/index.ts";
import { FakeApiServer, type FakeApiServerOptions } from "./fake-apiserver.ts";
import { NS, POOL, writeKubeconfig } from "./fake-objects.ts";

/** Fast retries so recovery tests finish quickly; generous timeouts elsewhere. */
export const TEST_TUNING: Partial<WatchTuning> = {
  backoffMinMs: 20,
  backoffMaxMs: 250,
  notInstalledRetryMs: 300,
  watchTimeoutSeconds: 120,
};

/** Polls `probe` until it returns something other than undefined/false; fails after `timeoutMs`. */
export async function until<T>(
  probe: () => T | undefined | false,
  what: string | (() => string) = "condition",
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === "string" ? what : what()}`,
      );
    await Bun.sleep(10);
  }
}

export interface LogLine {
  level: string;
  msg: string;
  [k: string]: unknown;
}

export interface Harness {
  server: FakeApiServer;
  discovery: KubernetesDiscovery;
  kubeconfig: string;
  /** The harness pool's reports (`poolName`, else the first of `pools`). */
  endpoints: Omit<Endpoint, "metrics">[][];
  pools: (InferencePool | undefined)[];
  objectives: InferenceObjective[][];
  rewrites: InferenceModelRewrite[][];
  /** Every `onPools` report, and every pool's last reports by key. */
  poolLists: DiscoveredPool[][];
  latest: Map<string, { endpoints?: string[]; objectives?: string[]; rewrites?: string[] }>;
  /** Every report in order: `pools a,b` and `endpoints <key> <n>`. */
  events: string[];
  logs: LogLine[];
  /** Names of the endpoints last reported, sorted. */
  names(): string[];
  lastRewrites(): string[];
  stop(): Promise<void>;
}

export async function startHarness(
  opts: {
    server?: FakeApiServerOptions;
    seed?: (s: FakeApiServer) => void;
    token?: string;
    poolName?: string;
    /** Discovery's choice; default: the one pool `poolName` in NS. */
    namespaces?: string[];
    pools?: string[];
    poolSelector?: Record<string, string>;
    /** Replaces TEST_TUNING (e.g. to add a fake `setTimer`). */
    tuning?: Partial<WatchTuning>;
  } = {},
): Promise<Harness> {
  const server = await FakeApiServer.start(opts.server);
  opts.seed?.(server);
  const kubeconfig = writeKubeconfig(server.url, opts.token ?? server.token);
  const logs: LogLine[] = [];
  const h = {
    server,
    kubeconfig,
    endpoints: [],
    pools: [],
    objectives: [],
    rewrites: [],
    poolLists: [],
    latest: new Map(),
    events: [],
    logs,
    names: () => [...(h.endpoints.at(-1) ?? [])].map((e) => e.name).sort(),
    lastRewrites: () =>
      (h.rewrites.at(-1) ?? []).map((r) => `${r.apiVersion.split("/")[0]}:${r.metadata.name}`),
    stop: async () => {
      await h.discovery.stop();
      await server.stop();
    },
  } as unknown as Harness;
  const mine = opts.poolName ?? opts.pools?.[0] ?? POOL;
  const note = (key: string, what: "endpoints" | "objectives" | "rewrites", names: string[]) =>
    h.latest.set(key, { ...h.latest.get(key), [what]: names });
  h.discovery = await startKubernetesDiscovery({
    namespaces: opts.namespaces ?? [NS],
    pools: opts.pools ?? (opts.poolSelector ? [] : [mine]),
    ...(opts.poolSelector ? { poolSelector: opts.poolSelector } : {}),
    kubeconfig,
    logger: createLogger("debug", (line) => logs.push(JSON.parse(line) as LogLine)),
    tuning: opts.tuning ?? TEST_TUNING,
    onPools: (ps) => {
      h.poolLists.push(ps);
      h.events.push(`pools ${ps.map((p) => p.key).join(",")}`);
      const p = ps.find((x) => x.key === mine)?.pool;
      if (h.pools.length === 0 || h.pools.at(-1) !== p) h.pools.push(p);
    },
    onEndpoints: (key, e) => {
      h.events.push(`endpoints ${key} ${e.length}`);
      note(
        key,
        "endpoints",
        e.map((x) => x.name),
      );
      if (key === mine) h.endpoints.push(e);
    },
    onObjectives: (key, o) => {
      note(
        key,
        "objectives",
        o.map((x) => x.metadata.name),
      );
      if (key === mine) h.objectives.push(o);
    },
    onRewrites: (key, r) => {
      note(
        key,
        "rewrites",
        r.map((x) => x.metadata.name),
      );
      if (key === mine) h.rewrites.push(r);
    },
  });
  return h;
}

/** Waits until the last reported endpoint names equal `expected` (sorted). */
export function untilNames(h: Harness, expected: string[]): Promise<true> {
  const want = JSON.stringify([...expected].sort());
  return until(
    () => JSON.stringify(h.names()) === want || undefined,
    () => `endpoints ${want} (have ${JSON.stringify(h.names())})`,
  );
}
