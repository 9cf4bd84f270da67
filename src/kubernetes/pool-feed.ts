/**
 * Discovered endpoints -> the gateway's pools. Discovery reports a pool's endpoints by its
 * key; the pool of that name may not be in the gateway yet (the config swap that adds it
 * comes from the overlay), so the latest set per key is kept and handed to the pool as
 * soon as it exists, and to a pool built anew under the same name. A pool that left the
 * gateway is retiring: it keeps the endpoints it has to finish its requests, and is not fed.
 */
import { keepLearned } from "../endpoints/keep-learned.ts";
import type { EndpointStore } from "../endpoints/store.ts";
import type { Endpoint } from "../endpoints/types.ts";

type Described = Omit<Endpoint, "metrics">;

/** The slice of the gateway's PoolSet the feed needs. */
export interface FedPools {
  get(name: string): { readonly endpoints: EndpointStore } | undefined;
  /** Called after pools are added or removed (and after endpoint changes). */
  onChange(listener: () => void): () => void;
}

export class PoolFeed {
  private readonly latest = new Map<string, readonly Described[]>();
  /** The set each pool object was last given (a pool rebuilt under the same name gets it again). */
  private readonly given = new WeakMap<object, readonly Described[]>();
  private readonly unsubscribe: () => void;

  constructor(private readonly pools: FedPools) {
    this.unsubscribe = pools.onChange(() => this.sync());
  }

  /** The whole current endpoint set of the pool named `key`. */
  set(key: string, endpoints: readonly Described[]): void {
    // A gone pool's last word: nothing to keep (a pool built later starts empty anyway).
    if (endpoints.length === 0 && !this.pools.get(key)) this.latest.delete(key);
    else this.latest.set(key, endpoints);
    this.sync();
  }

  /** Pool names whose latest endpoints are kept (bounded by the pools discovery serves). */
  get size(): number {
    return this.latest.size;
  }

  stop(): void {
    this.unsubscribe();
  }

  private sync(): void {
    for (const [key, endpoints] of this.latest) {
      const pool = this.pools.get(key);
      if (!pool || this.given.get(pool) === endpoints) continue;
      this.given.set(pool, endpoints);
      // Pods that stay keep the models learned from their /v1/models (and their metrics).
      pool.endpoints.replaceAll(keepLearned(pool.endpoints, endpoints, () => true));
    }
  }
}
