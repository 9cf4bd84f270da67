/**
 * Kubernetes discovery for the gateway: watches the InferencePools it serves (by name or
 * label selector, in one or more namespaces), their pods, and the InferenceObjective /
 * InferenceModelRewrite resources of those namespaces (both API groups), and reports
 * whole current sets per pool through callbacks. Speaks the API server's
 * list + watch protocol directly over fetch (see reflector.ts). Bun and Node only.
 */
import type { Logger } from "../log.ts";
import { createApiClient, type FetchLike } from "./api-client.ts";
import { type ClusterConfig, resolveClusterConfig } from "./cluster-config.ts";
import { Discovery, type DiscoveryCallbacks } from "./discovery.ts";
import type { WatchTuning } from "./reflector.ts";

export { type ApiClient, createApiClient, type FetchLike } from "./api-client.ts";
export { ApiError } from "./api-error.ts";
export {
  type ClusterConfig,
  inCluster,
  loadKubeconfig,
  type ResolveOptions,
  resolveClusterConfig,
  SERVICE_ACCOUNT_DIR,
} from "./cluster-config.ts";
export type { DiscoveredPool, DiscoveryCallbacks } from "./discovery.ts";
export { DEFAULT_ENGINE, ENGINE_LABELS, type PodInfo, podInfo, poolEndpoints } from "./pods.ts";
export { DEFAULT_TUNING, type KubeObject, Reflector, type WatchTuning } from "./reflector.ts";
export { ALPHA_GROUP_VERSIONS, POOL_GROUP_VERSION } from "./resources.ts";

export interface KubernetesDiscoveryOptions extends DiscoveryCallbacks {
  /** Namespaces to watch, in routing order (duplicates ignored). */
  namespaces: readonly string[];
  /** InferencePools served by name: `name` in each namespace, `namespace/name` in that one (listed ones route first, in this order). */
  pools?: readonly string[];
  /** InferencePools served because their labels match (matchLabels; `{}` matches every pool). */
  poolSelector?: Readonly<Record<string, string>>;
  /**
   * Path to a kubeconfig. When absent: the in-cluster service account
   * (KUBERNETES_SERVICE_HOST/PORT + /var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt,namespace}),
   * else the first file of $KUBECONFIG, else ~/.kube/config.
   */
  kubeconfig?: string;
  logger: Logger;
  /** Timing knobs (backoff, retry of missing CRDs, watch timeout); defaults suit production. */
  tuning?: Partial<WatchTuning>;
  /** Use this cluster configuration instead of looking one up (tests, embedding). */
  cluster?: ClusterConfig;
  /** Transport override (tests). */
  fetch?: FetchLike;
}

export interface KubernetesDiscovery {
  /** Aborts every request and wait; resolves once nothing is left running or scheduled. */
  stop(): Promise<void>;
  /**
   * Resolves after the first full sync: every namespace's pools and CRD collections (a
   * missing CRD counts as synced, empty), then the pods of every pool served by then.
   * Stays pending while the API server cannot be reached; race it with a timeout if
   * start-up must not wait forever.
   */
  ready: Promise<void>;
}

/**
 * Starts watching. Rejects only when the cluster configuration cannot be found or read
 * (a ConfigError naming the file and field), or nothing says which pools to serve; every
 * later problem is logged and retried.
 */
export async function startKubernetesDiscovery(
  opts: KubernetesDiscoveryOptions,
): Promise<KubernetesDiscovery> {
  const names = [...new Set(opts.pools ?? [])];
  if (names.length === 0 && !opts.poolSelector)
    throw new Error(
      "kubernetes discovery needs pools to serve: name them (pools) or select them (poolSelector)",
    );
  if (opts.namespaces.length === 0) throw new Error("kubernetes discovery needs at least one namespace");
  const cluster =
    opts.cluster ?? (await resolveClusterConfig(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}));
  const client = createApiClient(cluster, opts.fetch ? { fetch: opts.fetch } : {});
  opts.logger.info("kubernetes: discovery starting", {
    server: cluster.server,
    source: cluster.source,
    namespaces: opts.namespaces,
    ...(names.length ? { pools: names } : {}),
    ...(opts.poolSelector ? { poolSelector: opts.poolSelector } : {}),
  });
  const discovery = new Discovery({
    client,
    namespaces: opts.namespaces,
    choice: { names, selector: opts.poolSelector },
    logger: opts.logger,
    tuning: opts.tuning,
    onPools: (p) => opts.onPools(p),
    onEndpoints: (k, e) => opts.onEndpoints(k, e),
    onObjectives: (k, o) => opts.onObjectives(k, o),
    onRewrites: (k, r) => opts.onRewrites(k, r),
  });
  return { stop: () => discovery.stop(), ready: discovery.ready };
}
