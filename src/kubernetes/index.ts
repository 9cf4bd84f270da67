/**
 * Kubernetes discovery for the gateway: watches the InferencePool, its pods, and the
 * InferenceObjective / InferenceModelRewrite resources of the namespace (both API
 * groups), and reports whole current sets through callbacks. Speaks the API server's
 * list + watch protocol directly over fetch (see reflector.ts). Bun and Node only.
 */
import type { InferenceObjective, InferencePool } from "../config/resources.ts";
import type { Endpoint } from "../endpoints/types.ts";
import type { Logger } from "../log.ts";
import type { InferenceModelRewrite } from "../rewrite/index.ts";
import { createApiClient, type FetchLike } from "./api-client.ts";
import { type ClusterConfig, resolveClusterConfig } from "./cluster-config.ts";
import { Discovery } from "./discovery.ts";
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
export { DEFAULT_ENGINE, ENGINE_LABELS, type PodInfo, podInfo, poolEndpoints } from "./pods.ts";
export { DEFAULT_TUNING, type KubeObject, Reflector, type WatchTuning } from "./reflector.ts";
export { ALPHA_GROUP_VERSIONS, POOL_GROUP_VERSION } from "./resources.ts";

export interface KubernetesDiscoveryOptions {
  namespace: string;
  poolName: string;
  /**
   * Path to a kubeconfig. When absent: the in-cluster service account
   * (KUBERNETES_SERVICE_HOST/PORT + /var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt,namespace}),
   * else the first file of $KUBECONFIG, else ~/.kube/config.
   */
  kubeconfig?: string;
  logger: Logger;
  /** The whole current endpoint set (one per Ready pod x target port), after every change to it. */
  onEndpoints(endpoints: Omit<Endpoint, "metrics">[]): void;
  /** The pool, or undefined while it does not exist (or is invalid). */
  onPool(pool: InferencePool | undefined): void;
  /** Objectives of both groups whose spec.poolRef.name is `poolName`, sorted like rewrites. */
  onObjectives(objectives: InferenceObjective[]): void;
  /** Rewrites of both groups referencing `poolName`, by creationTimestamp then namespace/name. */
  onRewrites(rewrites: InferenceModelRewrite[]): void;
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
   * Resolves after the first full sync: the pool, its pods (when the pool exists) and every
   * CRD collection (a missing CRD counts as synced, empty). Stays pending while the API
   * server cannot be reached; race it with a timeout if start-up must not wait forever.
   */
  ready: Promise<void>;
}

/**
 * Starts watching. Rejects only when the cluster configuration cannot be found or read
 * (a ConfigError naming the file and field); every later problem is logged and retried.
 */
export async function startKubernetesDiscovery(
  opts: KubernetesDiscoveryOptions,
): Promise<KubernetesDiscovery> {
  const cluster =
    opts.cluster ?? (await resolveClusterConfig(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}));
  const client = createApiClient(cluster, opts.fetch ? { fetch: opts.fetch } : {});
  opts.logger.info("kubernetes: discovery starting", {
    server: cluster.server,
    source: cluster.source,
    namespace: opts.namespace,
    pool: opts.poolName,
  });
  const discovery = new Discovery({
    client,
    namespace: opts.namespace,
    poolName: opts.poolName,
    logger: opts.logger,
    tuning: opts.tuning,
    onEndpoints: (e) => opts.onEndpoints(e),
    onPool: (p) => opts.onPool(p),
    onObjectives: (o) => opts.onObjectives(o),
    onRewrites: (r) => opts.onRewrites(r),
  });
  return { stop: () => discovery.stop(), ready: discovery.ready };
}
