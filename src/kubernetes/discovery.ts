/**
 * Kubernetes discovery of many pools: one NamespaceWatch per namespace (its pools, their
 * pods, its objectives and rewrites), combined into the callbacks the gateway consumes,
 * each pool under the name the gateway serves it by (its key):
 *
 *   key     the pool's name; when a pool of that name is already served (from a namespace
 *           earlier in the list, or one seen first), `namespace/name`, logged. A pool keeps
 *           its key while it is served, so a pool appearing elsewhere never renames it.
 *   order   pools listed by name first, in the list's order; then the rest; ties by the
 *           namespaces' order, then by name.
 *
 * Nothing is reported before every namespace's pools were listed once, so keys and order
 * at start-up do not depend on which namespace answers first; a namespace that cannot be
 * listed (no RoleBinding there) holds the others back only `firstSyncWaitMs`. Callbacks fire with the whole
 * current set, only when it changed. A pool leaves `onPools` before its endpoints are
 * reported empty. A throwing callback is logged; it cannot break a watch.
 */
import type { InferenceObjective, InferencePool } from "../config/resources.ts";
import type { Endpoint } from "../endpoints/types.ts";
import type { Logger } from "../log.ts";
import type { InferenceModelRewrite } from "../rewrite/index.ts";
import type { ApiClient } from "./api-client.ts";
import { NamespaceWatch, type PoolChoice } from "./namespace-watch.ts";
import { endpointsKey } from "./pods.ts";
import { DEFAULT_TUNING, type WatchTuning } from "./reflector.ts";

/** A pool discovery serves, under the name the gateway routes it by. */
export interface DiscoveredPool {
  /** The gateway's name for it: `name`, or `namespace/name` when another pool holds `name`. */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly pool: InferencePool;
}

export interface DiscoveryCallbacks {
  /** Every served pool, in routing order. */
  onPools(pools: DiscoveredPool[]): void;
  /** A pool's whole endpoint set (one per Ready pod x target port); [] after the pool left `onPools`. */
  onEndpoints(pool: string, endpoints: Omit<Endpoint, "metrics">[]): void;
  /** Objectives of both groups whose spec.poolRef.name is the pool's (in its namespace). */
  onObjectives(pool: string, objectives: InferenceObjective[]): void;
  /** Rewrites of both groups referencing the pool, by creationTimestamp then name. */
  onRewrites(pool: string, rewrites: InferenceModelRewrite[]): void;
}

export interface DiscoveryContext extends DiscoveryCallbacks {
  client: ApiClient;
  namespaces: readonly string[];
  choice: PoolChoice;
  logger: Logger;
  tuning?: Partial<WatchTuning> | undefined;
}

type Report = { text: string; fire: (key: string) => void };

export class Discovery {
  readonly ready: Promise<void>;
  private readonly watches: NamespaceWatch[];
  /** Key of each served pool, by `namespace/name`. */
  private readonly keys = new Map<string, string>();
  /** The latest report of each kind per pool, replayed once the pool has its key. */
  private readonly reports = new Map<string, Map<string, Report>>();
  private readonly last = new Map<string, string>();
  private stopped = false;
  /** Set once the first report stops waiting for namespaces that have not been listed. */
  private waited = false;
  private cancelWait: (() => void) | undefined;

  constructor(private readonly ctx: DiscoveryContext) {
    const namespaces = [...new Set(ctx.namespaces)];
    this.watches = namespaces.map(
      (namespace) =>
        new NamespaceWatch({
          client: ctx.client,
          namespace,
          choice: ctx.choice,
          // Pod names repeat across namespaces; the gateway keeps health by endpoint name.
          ...(namespaces.length > 1 ? { endpointPrefix: `${namespace}/` } : {}),
          logger: ctx.logger,
          tuning: ctx.tuning,
          onPools: () => this.poolsChanged(),
          onEndpoints: (name, eps) =>
            this.report(`${namespace}/${name}`, "endpoints", endpointsKey(eps), (k) =>
              ctx.onEndpoints(k, eps),
            ),
          onDocs: (name, kind, docs) =>
            this.report(`${namespace}/${name}`, kind, JSON.stringify(docs), (k) =>
              kind === "InferenceObjective"
                ? ctx.onObjectives(k, docs as InferenceObjective[])
                : ctx.onRewrites(k, docs as InferenceModelRewrite[]),
            ),
        }),
    );
    this.ready = Promise.all(this.watches.map((w) => w.ready())).then(() => {});
    const { setTimer, firstSyncWaitMs } = { ...DEFAULT_TUNING, ...ctx.tuning };
    this.cancelWait = setTimer(() => {
      this.cancelWait = undefined;
      this.waited = true;
      const missing = this.watches.filter((w) => !w.synced).map((w) => w.namespace);
      if (missing.length === 0) return;
      ctx.logger.warn("kubernetes: namespaces not listed yet; serving the pools of the others meanwhile", {
        namespaces: missing,
        waitedMs: firstSyncWaitMs,
      });
      this.poolsChanged();
    }, firstSyncWaitMs);
  }

  /** Aborts every request and wait; resolves once nothing is left running or scheduled. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelWait?.();
    await Promise.all(this.watches.map((w) => w.stop()));
  }

  private poolsChanged(): void {
    if (!this.watches.every((w) => w.synced)) {
      if (!this.waited) return;
    } else if (this.cancelWait) {
      this.cancelWait();
      this.cancelWait = undefined;
    }
    const served = this.order(
      this.watches.flatMap((w) =>
        w.served().map((pool) => ({ namespace: w.namespace, name: pool.metadata.name, pool })),
      ),
    );
    const ids = new Set(served.map((p) => `${p.namespace}/${p.name}`));
    const released: string[] = [];
    for (const [id, key] of this.keys)
      if (!ids.has(id)) {
        this.keys.delete(id);
        this.reports.delete(id);
        for (const what of this.last.keys()) if (what.endsWith(`\0${key}`)) this.last.delete(what);
        released.push(key);
      }
    const assigned: string[] = [];
    for (const p of served) {
      const id = `${p.namespace}/${p.name}`;
      if (this.keys.has(id)) continue;
      const taken = new Set(this.keys.values());
      const key = taken.has(p.name) ? id : p.name;
      if (key !== p.name)
        this.ctx.logger.warn(
          "kubernetes: two namespaces hold an InferencePool of this name; served as namespace/name",
          {
            pool: p.name,
            namespace: p.namespace,
            servedAs: key,
          },
        );
      this.keys.set(id, key);
      assigned.push(id);
    }
    const pools = served.map((p) => ({ key: this.keys.get(`${p.namespace}/${p.name}`)!, ...p }));
    this.notify("pools", JSON.stringify(pools), () => this.ctx.onPools(pools));
    const reused = new Set(this.keys.values());
    for (const key of released)
      if (!reused.has(key)) this.notify(`endpoints\0${key}`, "[]", () => this.ctx.onEndpoints(key, []));
    for (const id of assigned) for (const [what, r] of this.reports.get(id) ?? []) this.deliver(id, what, r);
  }

  /** Listed names first (in the list's order), then the namespaces' order, then by name. */
  private order<T extends { namespace: string; name: string }>(pools: T[]): T[] {
    const { names } = this.ctx.choice;
    const rank = (p: T) => {
      const at = names.findIndex((n) => n === p.name || n === `${p.namespace}/${p.name}`);
      return at < 0 ? names.length : at;
    };
    const nsRank = (ns: string) => this.watches.findIndex((w) => w.namespace === ns);
    return pools.sort(
      (a, b) =>
        rank(a) - rank(b) ||
        nsRank(a.namespace) - nsRank(b.namespace) ||
        (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    );
  }

  private report(id: string, what: string, text: string, fire: (key: string) => void): void {
    const r = { text, fire };
    const mine = this.reports.get(id) ?? new Map<string, Report>();
    this.reports.set(id, mine);
    mine.set(what, r);
    this.deliver(id, what, r);
  }

  private deliver(id: string, what: string, r: Report): void {
    const key = this.keys.get(id);
    if (key !== undefined) this.notify(`${what}\0${key}`, r.text, () => r.fire(key));
  }

  /** Calls `fire` when `text` differs from the last one notified under `what`. */
  private notify(what: string, text: string, fire: () => void): void {
    if (this.last.get(what) === text || this.stopped) return;
    this.last.set(what, text);
    try {
      fire();
    } catch (err) {
      this.ctx.logger.error("kubernetes: discovery callback threw", {
        what: what.replace("\0", " "),
        error: String(err),
      });
    }
  }
}
