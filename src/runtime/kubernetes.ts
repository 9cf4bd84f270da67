import { ClusterOverlay } from "../config/cluster-overlay.ts";
import type { Settings } from "../config/settings.ts";
import type { Gateway } from "../gateway.ts";
import { startKubernetesDiscovery } from "../kubernetes/index.ts";
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
    throw new Error(
      "kubernetes discovery needs the pools to serve: set kubernetes.pools (names), kubernetes.poolSelector (labels) or pool",
    );
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
 * pool's. Returns the overlay so file reloads can re-apply the cluster's pools.
 */
export async function attachKubernetes(opts: {
  gateway: Gateway;
  logger: Logger;
  tuning?: Partial<WatchTuning>;
}): Promise<{ overlay: ClusterOverlay; ready: Promise<void>; stop(): Promise<void> }> {
  const { gateway, logger } = opts;
  const settings = gateway.deps.config.current.settings;
  const target = discoveryTarget(
    settings,
    settings.kubernetes?.namespace || settings.kubernetes?.namespaces?.length
      ? "default"
      : ((await inClusterNamespace()) ?? "default"),
  );
  const overlay = new ClusterOverlay(gateway.deps.config, logger, { check: gateway.checkConfig });
  const feed = new PoolFeed(gateway.deps.pools);
  const kubeconfig = settings.kubernetes?.kubeconfig;
  let discovery: Awaited<ReturnType<typeof startKubernetesDiscovery>>;
  try {
    discovery = await startKubernetesDiscovery({
      namespaces: target.namespaces,
      pools: target.pools,
      ...(target.poolSelector ? { poolSelector: target.poolSelector } : {}),
      ...(kubeconfig ? { kubeconfig } : {}),
      logger,
      ...(opts.tuning ? { tuning: opts.tuning } : {}),
      onPools: (pools) => overlay.setPools(pools),
      onEndpoints: (pool, endpoints) => feed.set(pool, endpoints),
      onObjectives: (pool, objectives) => overlay.setObjectives(pool, objectives),
      onRewrites: (pool, rewrites) => overlay.setRewrites(pool, rewrites),
    });
  } catch (err) {
    feed.stop();
    throw err;
  }
  return {
    overlay,
    ready: discovery.ready,
    stop: async () => {
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
