/**
 * One InferencePool's pods: a pod watch selected by the pool's matchLabels, turned into
 * the pool's endpoints (see pods.ts). The pool document is handed in by the namespace
 * watch; a selector change restarts the pod watch (re-LIST with the new selector), the
 * pool going away stops it.
 */
import type { InferencePool } from "../config/resources.ts";
import type { Endpoint } from "../endpoints/types.ts";
import type { Logger } from "../log.ts";
import type { ApiClient } from "./api-client.ts";
import { labelSelector, type PodInfo, podInfo, poolEndpoints } from "./pods.ts";
import { Reflector, type WatchTuning } from "./reflector.ts";

export interface PoolWatchOptions {
  client: ApiClient;
  namespace: string;
  name: string;
  /** Put before each endpoint name (`namespace/` when several namespaces are watched). */
  endpointPrefix?: string;
  logger: Logger;
  tuning?: Partial<WatchTuning> | undefined;
  /** The whole endpoint set, whenever it may have changed (the caller skips repeats). */
  onEndpoints(endpoints: Omit<Endpoint, "metrics">[]): void;
}

export class PoolWatch {
  private pods: Reflector<PodInfo> | undefined;
  private readonly retiring: Promise<void>[] = [];
  private podSelector: string | undefined;
  private podItems: ReadonlyMap<string, PodInfo> = new Map();
  /** Pods were listed at least once for some selector (so `podItems` means something). */
  private podsKnown = false;
  private pool: InferencePool | undefined;
  private poolKnown = false;
  private stopped = false;

  constructor(private readonly opts: PoolWatchOptions) {}

  /** The pool document now (undefined: it does not exist, or no longer matches). */
  get doc(): InferencePool | undefined {
    return this.pool;
  }

  /** Records the pool's current document without acting on it yet (see setPool). */
  setDoc(pool: InferencePool | undefined): void {
    this.pool = pool;
  }

  /** Takes the pool's current document; then (re)starts the pod watch and reports endpoints. */
  setPool(pool: InferencePool | undefined): void {
    this.pool = pool;
    this.poolKnown = true;
    this.syncPodWatch();
    this.emitEndpoints();
  }

  /** Resolves once the pods of the pool's current selector were listed (at once without a pool). */
  async synced(): Promise<void> {
    for (let r = this.pods; r; r = this.pods === r ? undefined : this.pods) await r.synced;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([this.pods?.stop(), ...this.retiring]);
  }

  private syncPodWatch(): void {
    const selector = this.pool ? labelSelector(this.pool.spec.selector.matchLabels) : undefined;
    if (selector === this.podSelector || this.stopped) return;
    this.podSelector = selector;
    if (this.pods) this.retiring.push(this.pods.stop());
    this.pods = undefined;
    // Known pods stay until the new list lands; poolEndpoints filters them by the new selector.
    if (selector === undefined) {
      this.podItems = new Map();
      this.podsKnown = false;
      return;
    }
    const { client, logger, tuning, namespace } = this.opts;
    const reflector: Reflector<PodInfo> = new Reflector<PodInfo>({
      client,
      logger,
      tuning,
      what: `pods (${selector}) in ${namespace}`,
      path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
      query: { labelSelector: selector },
      kind: { apiVersion: "v1", kind: "Pod" },
      decode: podInfo,
      onChange: (items) => {
        if (this.pods !== reflector) return; // a retired watch's last words
        this.podItems = items;
        this.podsKnown = true;
        this.emitEndpoints();
      },
    });
    this.pods = reflector.start();
  }

  /** No news before the pool is known, nor while its pods have not been listed yet. */
  private emitEndpoints(): void {
    if (this.stopped || !this.poolKnown || (this.pool && !this.podsKnown)) return;
    this.opts.onEndpoints(
      this.pool ? poolEndpoints(this.pool, this.podItems.values(), this.opts.endpointPrefix) : [],
    );
  }
}
