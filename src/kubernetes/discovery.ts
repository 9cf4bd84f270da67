/**
 * Kubernetes discovery: one reflector (list + watch) per collection, combined into the
 * callbacks the gateway consumes.
 *
 *   InferencePool  inference.networking.k8s.io/v1, fieldSelector metadata.name=<pool>
 *     -> onPool; its matchLabels become the pods' labelSelector (a selector change
 *        restarts the pod watch: re-LIST with the new selector)
 *   Pods           labelSelector = pool matchLabels -> onEndpoints (see pods.ts)
 *   InferenceObjective, InferenceModelRewrite in both alpha groups -> onObjectives, onRewrites
 *
 * Callbacks fire with the whole current set, only when it changed, and never before that
 * collection's first sync. A throwing callback is logged; it cannot break a watch.
 */
import type { InferenceObjective, InferencePool } from "../config/resources.ts";
import type { Endpoint } from "../endpoints/types.ts";
import type { Logger } from "../log.ts";
import type { InferenceModelRewrite } from "../rewrite/index.ts";
import type { ApiClient } from "./api-client.ts";
import { endpointsKey, labelSelector, type PodInfo, podInfo, poolEndpoints } from "./pods.ts";
import { type KubeObject, Reflector, type WatchTuning } from "./reflector.ts";
import {
  ALPHA_GROUP_VERSIONS,
  decodeObjective,
  decodePool,
  decodeRewrite,
  mergeGroups,
  POOL_GROUP_VERSION,
} from "./resources.ts";

export interface DiscoveryCallbacks {
  onEndpoints(endpoints: Omit<Endpoint, "metrics">[]): void;
  onPool(pool: InferencePool | undefined): void;
  onObjectives(objectives: InferenceObjective[]): void;
  onRewrites(rewrites: InferenceModelRewrite[]): void;
}

export interface DiscoveryContext extends DiscoveryCallbacks {
  client: ApiClient;
  namespace: string;
  poolName: string;
  logger: Logger;
  tuning?: Partial<WatchTuning> | undefined;
}

type Doc = InferenceObjective | InferenceModelRewrite;

export class Discovery {
  readonly ready: Promise<void>;
  private readonly ns: string;
  private readonly poolReflector: Reflector<InferencePool>;
  private readonly crdReflectors: Reflector<Doc>[] = [];
  private pods: Reflector<PodInfo> | undefined;
  private readonly retiring: Promise<void>[] = [];
  private podSelector: string | undefined;
  private podItems: ReadonlyMap<string, PodInfo> = new Map();
  /** Pods were listed at least once for some selector (so `podItems` means something). */
  private podsKnown = false;
  private pool: InferencePool | undefined;
  private poolSynced = false;
  private stopped = false;
  private readonly last = new Map<string, string>();
  private readonly warned = new Set<string>();

  constructor(private readonly ctx: DiscoveryContext) {
    this.ns = encodeURIComponent(ctx.namespace);
    this.poolReflector = new Reflector<InferencePool>({
      ...this.common(`InferencePool ${ctx.namespace}/${ctx.poolName}`),
      path: `/apis/${POOL_GROUP_VERSION}/namespaces/${this.ns}/inferencepools`,
      query: { fieldSelector: `metadata.name=${ctx.poolName}` },
      kind: { apiVersion: POOL_GROUP_VERSION, kind: "InferencePool" },
      decode: decodePool(ctx.logger),
      onChange: (items) => this.poolChanged(items.get(ctx.poolName)),
    });
    this.watchAlpha("InferenceObjective", "inferenceobjectives", decodeObjective(ctx.logger), (xs) =>
      ctx.onObjectives(xs as InferenceObjective[]),
    );
    this.watchAlpha("InferenceModelRewrite", "inferencemodelrewrites", decodeRewrite(ctx.logger), (xs) =>
      ctx.onRewrites(xs as InferenceModelRewrite[]),
    );
    this.poolReflector.start();
    for (const r of this.crdReflectors) r.start();
    this.ready = this.waitReady();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const all = [this.poolReflector, ...this.crdReflectors, ...(this.pods ? [this.pods] : [])];
    await Promise.all([...all.map((r) => r.stop()), ...this.retiring]);
  }

  private common(what: string) {
    return { client: this.ctx.client, what, logger: this.ctx.logger, tuning: this.ctx.tuning };
  }

  private async waitReady(): Promise<void> {
    await Promise.all([this.poolReflector.synced, ...this.crdReflectors.map((r) => r.synced)]);
    for (let r = this.pods; r; r = this.pods === r ? undefined : this.pods) await r.synced;
  }

  /** One reflector per alpha group; `emit` gets the merged, filtered, sorted set once all groups synced. */
  private watchAlpha(
    kind: string,
    plural: string,
    decode: (obj: KubeObject) => Doc | undefined,
    emit: (docs: Doc[]) => void,
  ): void {
    const groups: (ReadonlyMap<string, Doc> | undefined)[] = ALPHA_GROUP_VERSIONS.map(() => undefined);
    ALPHA_GROUP_VERSIONS.forEach((gv, i) => {
      const reflector = new Reflector<Doc>({
        ...this.common(`${kind} ${gv} in ${this.ctx.namespace}`),
        path: `/apis/${gv}/namespaces/${this.ns}/${plural}`,
        kind: { apiVersion: gv, kind },
        decode,
        onChange: (items) => {
          groups[i] = items;
          const synced = groups.filter((g): g is ReadonlyMap<string, Doc> => g !== undefined);
          if (synced.length < groups.length) return;
          const docs = mergeGroups(synced, this.ctx.poolName, (kept, dropped) =>
            this.duplicate(kind, kept, dropped),
          );
          this.notify(kind, docs, () => emit(docs));
        },
      });
      this.crdReflectors.push(reflector);
    });
  }

  private poolChanged(pool: InferencePool | undefined): void {
    this.pool = pool;
    this.poolSynced = true;
    this.notify("pool", pool ?? null, () => this.ctx.onPool(pool));
    this.syncPodWatch();
    this.emitEndpoints();
  }

  /** (Re)starts the pod watch when the pool's selector changed; stops it when the pool is gone. */
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
    const reflector: Reflector<PodInfo> = new Reflector<PodInfo>({
      ...this.common(`pods (${selector}) in ${this.ctx.namespace}`),
      path: `/api/v1/namespaces/${this.ns}/pods`,
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
    if (!this.poolSynced || (this.pool && !this.podsKnown)) return;
    const endpoints = this.pool ? poolEndpoints(this.pool, this.podItems.values()) : [];
    this.notify("endpoints", endpointsKey(endpoints), () => this.ctx.onEndpoints(endpoints));
  }

  /** Calls `fire` when `value` differs from the last one notified under `key`. */
  private notify(key: string, value: unknown, fire: () => void): void {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    if (this.last.get(key) === text || this.stopped) return;
    this.last.set(key, text);
    try {
      fire();
    } catch (err) {
      this.ctx.logger.error("kubernetes: discovery callback threw", { what: key, error: String(err) });
    }
  }

  private duplicate(kind: string, kept: Doc, dropped: Doc): void {
    const id = `${kind}/${dropped.metadata.namespace ?? ""}/${dropped.metadata.name}`;
    if (this.warned.has(id)) return;
    this.warned.add(id);
    this.ctx.logger.warn("kubernetes: same resource name in both API groups; the older one is used", {
      resource: id,
      used: kept.apiVersion,
      ignored: dropped.apiVersion,
    });
  }
}
