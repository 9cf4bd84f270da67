/**
 * Discovery in one namespace: the InferencePools it serves (named, or matching the pool
 * selector), a PoolWatch (pods -> endpoints) per served pool, and the InferenceObjectives /
 * InferenceModelRewrites of both alpha groups, split by the pool their poolRef names.
 *
 *   InferencePool  one name only: fieldSelector metadata.name=<name>; a selector only:
 *                  labelSelector=<matchLabels>; else the whole namespace, filtered here
 *   Pods           one watch per served pool, labelSelector = its matchLabels
 *   InferenceObjective, InferenceModelRewrite: one watch per group, namespace-wide
 */
import type { InferenceObjective, InferencePool } from "../config/resources.ts";
import type { Endpoint } from "../endpoints/types.ts";
import type { Logger } from "../log.ts";
import type { InferenceModelRewrite } from "../rewrite/index.ts";
import type { ApiClient } from "./api-client.ts";
import { labelSelector, matches } from "./pods.ts";
import { PoolWatch } from "./pool-watch.ts";
import { type KubeObject, Reflector, type WatchTuning } from "./reflector.ts";
import {
  ALPHA_GROUP_VERSIONS,
  decodeObjective,
  decodePool,
  decodeRewrite,
  mergeGroups,
  POOL_GROUP_VERSION,
} from "./resources.ts";

type Doc = InferenceObjective | InferenceModelRewrite;
type Kind = "InferenceObjective" | "InferenceModelRewrite";

/** Which pools a namespace serves: those named, and those whose labels match the selector. */
export interface PoolChoice {
  /** `name` (in every namespace) or `namespace/name` (in that one). */
  readonly names: readonly string[];
  readonly selector: Readonly<Record<string, string>> | undefined;
}

export interface NamespaceWatchOptions {
  client: ApiClient;
  namespace: string;
  choice: PoolChoice;
  /** Put before each endpoint name (`namespace/` when several namespaces are watched). */
  endpointPrefix?: string;
  logger: Logger;
  tuning?: Partial<WatchTuning> | undefined;
  /** The served pools changed (added, removed or edited): read `served()`. Called before their pods are read. */
  onPools(): void;
  /** A served pool's whole endpoint set (the caller skips repeats). */
  onEndpoints(pool: string, endpoints: Omit<Endpoint, "metrics">[]): void;
  /** A served pool's objectives or rewrites (both groups merged; the caller skips repeats). */
  onDocs(pool: string, kind: Kind, docs: Doc[]): void;
}

/** The pool names `names` gives for `namespace`: plain ones, and `namespace/name` ones of it. */
export function namesIn(names: readonly string[], namespace: string): string[] {
  return names.flatMap((n) => {
    const slash = n.indexOf("/");
    if (slash < 0) return [n];
    return n.slice(0, slash) === namespace ? [n.slice(slash + 1)] : [];
  });
}

export class NamespaceWatch {
  private readonly poolReflector: Reflector<InferencePool>;
  private readonly crdReflectors: Reflector<Doc>[] = [];
  private readonly pools = new Map<string, PoolWatch>();
  /** Pod watches of pools no longer served, still closing (stop() waits for them). */
  private readonly retiring = new Set<Promise<void>>();
  private readonly docs = new Map<Kind, (ReadonlyMap<string, Doc> | undefined)[]>();
  private readonly warned = new Set<string>();
  private poolsSynced = false;
  /** The pool names served here. */
  private readonly names: readonly string[];

  constructor(private readonly opts: NamespaceWatchOptions) {
    const { namespace, choice } = opts;
    const ns = encodeURIComponent(namespace);
    this.names = [...new Set(namesIn(choice.names, namespace))];
    const only = this.names.length === 1 && !choice.selector ? this.names[0] : undefined;
    const bySelector =
      choice.names.length === 0 && choice.selector ? labelSelector({ ...choice.selector }) : "";
    this.poolReflector = new Reflector<InferencePool>({
      ...this.common(
        `InferencePool ${only ? `${namespace}/${only}` : `(${bySelector || "all"}) in ${namespace}`}`,
      ),
      path: `/apis/${POOL_GROUP_VERSION}/namespaces/${ns}/inferencepools`,
      query: only
        ? { fieldSelector: `metadata.name=${only}` }
        : bySelector
          ? { labelSelector: bySelector }
          : {},
      kind: { apiVersion: POOL_GROUP_VERSION, kind: "InferencePool" },
      decode: decodePool(opts.logger),
      onChange: (items) => this.poolsChanged(items),
    });
    this.watchAlpha("InferenceObjective", "inferenceobjectives", decodeObjective(opts.logger));
    this.watchAlpha("InferenceModelRewrite", "inferencemodelrewrites", decodeRewrite(opts.logger));
    this.poolReflector.start();
    for (const r of this.crdReflectors) r.start();
  }

  get namespace(): string {
    return this.opts.namespace;
  }

  /** The pools list has been read once (so `served()` means something). */
  get synced(): boolean {
    return this.poolsSynced;
  }

  /** The served pools, by name. */
  served(): InferencePool[] {
    return [...this.pools.values()].map((p) => p.doc).filter((d): d is InferencePool => d !== undefined);
  }

  /** Every collection listed once, then the pods of every served pool. */
  async ready(): Promise<void> {
    await Promise.all([this.poolReflector.synced, ...this.crdReflectors.map((r) => r.synced)]);
    await Promise.all([...this.pools.values()].map((p) => p.synced()));
  }

  async stop(): Promise<void> {
    await Promise.all([
      this.poolReflector.stop(),
      ...this.crdReflectors.map((r) => r.stop()),
      ...[...this.pools.values()].map((p) => p.stop()),
      ...this.retiring,
    ]);
  }

  private common(what: string) {
    const { client, logger, tuning } = this.opts;
    return { client, what, logger, tuning };
  }

  private serves(pool: InferencePool): boolean {
    const { selector } = this.opts.choice;
    return (
      this.names.includes(pool.metadata.name) ||
      (selector !== undefined && matches(pool.metadata.labels ?? {}, { ...selector }))
    );
  }

  /**
   * New pools get a PoolWatch, gone (or no longer matching) ones lose theirs; the caller
   * hears of the new set before any pool's pods are read, so a pool is known before its
   * endpoints and forgotten before its last (empty) endpoint set.
   */
  private poolsChanged(items: ReadonlyMap<string, InferencePool>): void {
    this.poolsSynced = true;
    const wanted = new Map([...items].filter(([, p]) => this.serves(p)));
    const gone: PoolWatch[] = [];
    for (const [name, watch] of this.pools)
      if (!wanted.has(name)) {
        gone.push(watch);
        this.pools.delete(name);
      }
    const added: string[] = [];
    for (const name of wanted.keys())
      if (!this.pools.has(name)) {
        added.push(name);
        const watch = new PoolWatch({
          ...this.common(name),
          namespace: this.opts.namespace,
          name,
          ...(this.opts.endpointPrefix ? { endpointPrefix: this.opts.endpointPrefix } : {}),
          onEndpoints: (eps) => {
            if (this.pools.get(name) === watch) this.opts.onEndpoints(name, eps);
          },
        });
        this.pools.set(name, watch);
      }
    // Documents first, so `served()` is current when the caller reads it.
    for (const [name, watch] of this.pools) watch.setDoc(wanted.get(name));
    this.opts.onPools();
    for (const watch of gone) {
      const done = watch.stop().finally(() => this.retiring.delete(done));
      this.retiring.add(done);
    }
    for (const name of added) for (const kind of this.docs.keys()) this.emitDocs(kind, [name]);
    for (const [name, watch] of this.pools) watch.setPool(wanted.get(name));
  }

  /** One reflector per alpha group; each served pool gets its documents once all groups synced. */
  private watchAlpha(kind: Kind, plural: string, decode: (obj: KubeObject) => Doc | undefined): void {
    const groups: (ReadonlyMap<string, Doc> | undefined)[] = ALPHA_GROUP_VERSIONS.map(() => undefined);
    ALPHA_GROUP_VERSIONS.forEach((gv, i) => {
      const reflector = new Reflector<Doc>({
        ...this.common(`${kind} ${gv} in ${this.opts.namespace}`),
        path: `/apis/${gv}/namespaces/${encodeURIComponent(this.opts.namespace)}/${plural}`,
        kind: { apiVersion: gv, kind },
        decode,
        onChange: (items) => {
          groups[i] = items;
          if (groups.every((g) => g !== undefined)) {
            this.docs.set(kind, groups);
            this.emitDocs(kind, [...this.pools.keys()]);
          }
        },
      });
      this.crdReflectors.push(reflector);
    });
  }

  private emitDocs(kind: Kind, pools: readonly string[]): void {
    const groups = this.docs.get(kind) as ReadonlyMap<string, Doc>[] | undefined;
    if (!groups) return;
    for (const pool of pools)
      this.opts.onDocs(
        pool,
        kind,
        mergeGroups(groups, pool, (kept, dropped) => this.duplicate(kind, kept, dropped)),
      );
  }

  private duplicate(kind: string, kept: Doc, dropped: Doc): void {
    const id = `${kind}/${dropped.metadata.namespace ?? ""}/${dropped.metadata.name}`;
    if (this.warned.has(id)) return;
    this.warned.add(id);
    this.opts.logger.warn("kubernetes: same resource name in both API groups; the older one is used", {
      resource: id,
      used: kept.apiVersion,
      ignored: dropped.apiVersion,
    });
  }
}
