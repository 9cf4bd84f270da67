import { ClusterOverlay } from "../config/cluster-overlay.ts";
import { ConfigError } from "../config/errors.ts";
import type { Settings } from "../config/settings.ts";
import type { Gateway } from "../gateway.ts";
import { type KubernetesDiscovery, startKubernetesDiscovery } from "../kubernetes/index.ts";
import { PoolFeed } from "../kubernetes/pool-feed.ts";
import type { WatchTuning } from "../kubernetes/reflector.ts";
import type { Logger } from "../log.ts";

/** Which pools discovery serves, where: what the `kubernetes` settings (and `pool`) say. */
export interface DiscoveryTarget {
  namespaces: string[];
  pools: string[];
  poolSelector: Record<string, string> | undefined;
}

/**
 * Reads the `kubernetes` settings: `pool` and `pools` together name the pools (with neither
 * nor `poolSelector`, the top-level `pool`); `namespace` and `namespaces` together are the
 * namespaces, else `fallbackNamespace` (the service account's). Throws naming what to set.
 */
export function discoveryTarget(settings: Settings, fallbackNamespace: string): DiscoveryTarget {
  const k8s = settings.kubernetes;
  if (!k8s) throw new Error("attachKubernetes needs the `kubernetes` setting");
  const selector = k8s.poolSelector?.matchLabels;
  let pools = [...new Set([...(k8s.pool ? [k8s.pool] : []), ...(k8s.pools ?? [])])];
  if (pools.length === 0 && !selector && settings.pool) pools = [settings.pool];
  if (pools.length === 0 && !selector)
    throw new ConfigError({
      path: "GatewayConfig kubernetes",
      expected: "the pools to serve: kubernetes.pools (names), kubernetes.poolSelector (labels) or pool",
    });
  const listed = [...(k8s.namespace ? [k8s.namespace] : []), ...(k8s.namespaces ?? [])];
  return {
    namespaces: listed.length ? [...new Set(listed)] : [fallbackNamespace],
    pools,
    poolSelector: selector,
  };
}

/**
 * Feeds a gateway from Kubernetes: every InferencePool named or selected, in each watched
 * namespace, becomes one of the gateway's pools (added and retired as the cluster changes),
 * its Ready pods that pool's endpoints, and the objectives and rewrites naming it that
 * pool's. Returns the overlay so file reloads can re-apply the cluster's pools. A reload
 * that changes which pools or namespaces (or the kubeconfig) starts a new discovery; the
 * pools served stay until it reports, and the old one is stopped once the new one runs.
 */
export async function attachKubernetes(opts: {
  gateway: Gateway;
  logger: Logger;
  tuning?: Partial<WatchTuning>;
}): Promise<{ overlay: ClusterOverlay; ready: Promise<void>; stop(): Promise<void> }> {
  const { gateway, logger } = opts;
  const holder = gateway.deps.config;
  const fallbackNamespace = (await inClusterNamespace()) ?? "default";
  const overlay = new ClusterOverlay(holder, logger, { check: gateway.checkConfig });
  const feed = new PoolFeed(gateway.deps.pools);
  /** Only the latest discovery's reports count (an older one may speak while it stops). */
  let generation = 0;
  const start = (target: DiscoveryTarget, kubeconfig: string | undefined) => {
    const mine = ++generation;
    const live = () => mine === generation;
    return startKubernetesDiscovery({
      namespaces: target.namespaces,
      pools: target.pools,
      ...(target.poolSelector ? { poolSelector: target.poolSelector } : {}),
      ...(kubeconfig ? { kubeconfig } : {}),
      logger,
      ...(opts.tuning ? { tuning: opts.tuning } : {}),
      onPools: (pools) => live() && overlay.setPools(pools),
      onEndpoints: (pool, endpoints) => live() && feed.set(pool, endpoints),
      onObjectives: (pool, objectives) => live() && overlay.setObjectives(pool, objectives),
      onRewrites: (pool, rewrites) => live() && overlay.setRewrites(pool, rewrites),
    }).catch((err: unknown) => {
      if (mine === generation) generation--; // the one running stays in charge
      throw err;
    });
  };
  const settingsKey = (s: Settings) =>
    JSON.stringify([discoveryTarget(s, fallbackNamespace), s.kubernetes?.kubeconfig]);
  const first = holder.current.settings;
  let watching = settingsKey(first);
  let discovery: KubernetesDiscovery;
  try {
    discovery = await start(discoveryTarget(first, fallbackNamespace), first.kubernetes?.kubeconfig);
  } catch (err) {
    feed.stop();
    throw err;
  }
  let restarts = Promise.resolve();
  const unwatch = holder.onSwap((next) => {
    if (!next.settings.kubernetes) {
      logger.warn("kubernetes section removed from the config: discovery goes on until a restart");
      return;
    }
    let key: string;
    try {
      key = settingsKey(next.settings);
    } catch (err) {
      logger.error("kubernetes settings refused; discovery goes on as it was", { error: String(err) });
      return;
    }
    if (key === watching) return;
    watching = key;
    const target = discoveryTarget(next.settings, fallbackNamespace);
    const kubeconfig = next.settings.kubernetes.kubeconfig;
    restarts = restarts.then(async () => {
      logger.info("kubernetes: discovery settings changed; watching anew", { ...target });
      try {
        const replaced = discovery;
        discovery = await start(target, kubeconfig);
        await replaced.stop();
      } catch (err) {
        logger.error("kubernetes: new discovery settings could not start; the previous discovery goes on", {
          error: err instanceof Error ? err.message : String(err),
        });
      }
    });
  });
  return {
    overlay,
    ready: discovery.ready,
    stop: async () => {
      unwatch();
      await restarts;
      await discovery.stop();
      feed.stop();
    },
  };
}

async function inClusterNamespace(): Promise<string | undefined> {
  try {
    const { readFile } = await import("node:fs/promises");
    return (
      (await readFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace", "utf8")).trim() || undefined
    );
  } catch {
    return undefined;
  }
}
