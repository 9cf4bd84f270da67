import { ClusterOverlay } from "../config/cluster-overlay.ts";
import { keepLearned } from "../endpoints/keep-learned.ts";
import type { Gateway } from "../gateway.ts";
import { startKubernetesDiscovery } from "../kubernetes/index.ts";
import type { WatchTuning } from "../kubernetes/reflector.ts";
import type { Logger } from "../log.ts";

/**
 * Feeds a gateway from Kubernetes: the pool's Ready pods become its endpoints, and the
 * cluster's InferencePool, InferenceObjectives and InferenceModelRewrites replace the
 * file's. Returns the overlay so file reloads can re-apply the cluster's resources.
 */
export async function attachKubernetes(opts: {
  gateway: Gateway;
  logger: Logger;
  tuning?: Partial<WatchTuning>;
}): Promise<{ overlay: ClusterOverlay; ready: Promise<void>; stop(): Promise<void> }> {
  const { gateway, logger } = opts;
  const settings = gateway.deps.config.current.settings;
  const k8s = settings.kubernetes;
  if (!k8s) throw new Error("attachKubernetes needs the `kubernetes` setting");
  const poolName = k8s.pool ?? settings.pool;
  if (!poolName) throw new Error("kubernetes discovery needs a pool name: set kubernetes.pool or pool");
  const overlay = new ClusterOverlay(gateway.deps.config, logger);
  const discovery = await startKubernetesDiscovery({
    namespace: k8s.namespace ?? (await inClusterNamespace()) ?? "default",
    poolName,
    ...(k8s.kubeconfig ? { kubeconfig: k8s.kubeconfig } : {}),
    logger,
    ...(opts.tuning ? { tuning: opts.tuning } : {}),
    // Pods that stay keep the models learned from their /v1/models (and their metrics).
    onEndpoints: (endpoints) => {
      const store = gateway.deps.endpoints;
      store.replaceAll(keepLearned(store, endpoints, () => true));
    },
    onPool: (pool) => overlay.setPool(pool),
    onObjectives: (objectives) => overlay.setObjectives(objectives),
    onRewrites: (rewrites) => overlay.setRewrites(rewrites),
  });
  return { overlay, ready: discovery.ready, stop: () => discovery.stop() };
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
