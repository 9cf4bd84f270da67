/**
 * What each pod really holds, from its KV events (llm-d-kv-cache's `kvblock.Index`):
 * request key → pods, per pod a bounded LRU of keys, and per pod the engine hash → request
 * key map that BlockRemoved and the next BlockStored's `parent_block_hash` resolve through.
 *
 * Speculative entries (upstream's `speculativeIndexing`): when the scheduler sends a
 * request to a pod, its keys are added for that pod until `speculativeTtlMs` (upstream's
 * default 2 s) passes; a BlockStored for the key confirms it (no expiry), the TTL removes
 * it otherwise. Expiry is swept on every call in deadline order (one FIFO, since the TTL
 * is fixed): no timers.
 *
 * Bounds: at most `maxBlocksPerPod` keys per pod (least recently stored first out),
 * `maxKeys` keys in all (upstream `inMemoryConfig.size`; new keys beyond are dropped and
 * counted), `maxPodsPerKey` pods per key (upstream `podCacheSize`, 10).
 */
import type { Clock } from "../clock.ts";
import { chainKeys, rootKey } from "./block-keys.ts";
import type { BlockStored, EngineHash } from "./events.ts";

const CONFIRMED = Number.POSITIVE_INFINITY;

interface Entry {
  /** Expiry of a speculative entry; CONFIRMED once an event reported it. */
  until: number;
  engine: EngineHash | undefined;
}

interface Pod {
  readonly blocks: Map<number, Entry>;
  readonly engine: Map<EngineHash, number>;
  /** Last event from it, or last time it was a scheduling candidate (clock ms). */
  seen: number;
}

export interface BlockIndexOptions {
  readonly clock: Clock;
  readonly blockSize: number;
  readonly hashSeed?: string;
  readonly speculativeTtlMs?: number;
  readonly maxBlocksPerPod?: number;
  readonly maxKeys?: number;
  readonly maxPodsPerKey?: number;
}

/** Counts since start: what the events did to the index, and what was skipped. */
export interface BlockIndexStats {
  stored: number;
  removed: number;
  cleared: number;
  speculative: number;
  expired: number;
  /** BlockStored whose parent hash this pod never reported (events were lost): skipped. */
  orphaned: number;
  /** BlockStored whose block_size differs from tokenProcessorConfig.blockSize: skipped. */
  blockSizeMismatch: number;
  /** Keys not added because an index bound was reached. */
  dropped: number;
}

export class KvBlockIndex {
  private readonly keyPods = new Map<number, Set<string>>();
  private readonly pods = new Map<string, Pod>();
  private readonly expiries: { pod: string; key: number; until: number }[] = [];
  private expiryHead = 0;
  readonly stats: BlockIndexStats = {
    stored: 0,
    removed: 0,
    cleared: 0,
    speculative: 0,
    expired: 0,
    orphaned: 0,
    blockSizeMismatch: 0,
    dropped: 0,
  };
  readonly blockSize: number;
  private readonly ttl: number;
  private readonly maxPerPod: number;
  private readonly maxKeys: number;
  private readonly maxPodsPerKey: number;

  constructor(private readonly o: BlockIndexOptions) {
    this.blockSize = o.blockSize;
    this.ttl = o.speculativeTtlMs ?? 2000;
    this.maxPerPod = o.maxBlocksPerPod ?? 1_000_000;
    this.maxKeys = o.maxKeys ?? 100_000_000;
    this.maxPodsPerKey = o.maxPodsPerKey ?? 10;
  }

  /** The keys of a prompt's tokens for `model`, at most `maxBlocks`. */
  requestKeys(model: string, tokens: ArrayLike<number>, maxBlocks?: number): number[] {
    return chainKeys(rootKey(model, this.o.hashSeed), tokens, this.blockSize, maxBlocks);
  }

  /** Applies a BlockStored from `pod` serving `model` (its `lora_name` instead, for an adapter's blocks). */
  stored(pod: string, model: string, ev: BlockStored): void {
    this.sweep();
    if (ev.blockSize !== this.blockSize) {
      this.stats.blockSizeMismatch++;
      return;
    }
    const p = this.pod(pod);
    let parent: number | undefined = rootKey(ev.loraName ?? model, this.o.hashSeed);
    if (ev.parentBlockHash !== undefined) parent = p.engine.get(ev.parentBlockHash);
    if (parent === undefined) {
      this.stats.orphaned++;
      return;
    }
    const keys = chainKeys(parent, ev.tokenIds, this.blockSize, ev.blockHashes.length);
    for (let i = 0; i < keys.length; i++) this.add(pod, p, keys[i]!, CONFIRMED, ev.blockHashes[i]);
    this.stats.stored += keys.length;
  }

  /** Applies a BlockRemoved from `pod`. */
  removed(pod: string, hashes: readonly EngineHash[]): void {
    this.sweep();
    const p = this.pods.get(pod);
    if (p === undefined) return;
    for (const h of hashes) {
      const key = p.engine.get(h);
      if (key === undefined) continue;
      this.drop(pod, p, key);
      this.stats.removed++;
    }
  }

  /** AllBlocksCleared from `pod` (or the pod left): forget everything it holds. */
  cleared(pod: string): void {
    const p = this.pods.get(pod);
    if (p === undefined) return;
    for (const key of p.blocks.keys()) this.unlink(pod, key);
    this.pods.delete(pod);
    this.stats.cleared++;
  }

  /** Speculative entries: `pod` is about to compute `keys` (no-op for keys it holds). */
  speculate(pod: string, keys: readonly number[]): void {
    this.sweep();
    const p = this.pod(pod);
    const until = this.o.clock.now() + this.ttl;
    for (const key of keys) {
      if (p.blocks.has(key)) continue;
      if (this.add(pod, p, key, until, undefined)) {
        this.expiries.push({ pod, key, until });
        this.stats.speculative++;
      }
    }
  }

  /** Per pod (of `pods`), how many leading keys of `keys` it holds. */
  match(keys: readonly number[], pods: readonly string[]): Map<string, number> {
    this.sweep();
    const out = new Map<string, number>();
    let alive = pods.filter((p) => this.pods.has(p));
    for (let i = 0; i < keys.length && alive.length > 0; i++) {
      const holders = this.keyPods.get(keys[i]!);
      if (holders === undefined) break;
      alive = alive.filter((p) => holders.has(p));
      for (const p of alive) out.set(p, i + 1);
    }
    return out;
  }

  /** True when `pod` has reported (or been speculated) anything. */
  knows(pod: string): boolean {
    return this.pods.has(pod);
  }

  /** Keys held by `pod` (confirmed and speculative). */
  size(pod?: string): number {
    if (pod !== undefined) return this.pods.get(pod)?.blocks.size ?? 0;
    return this.keyPods.size;
  }

  private pod(name: string): Pod {
    let p = this.pods.get(name);
    if (p === undefined) {
      p = { blocks: new Map(), engine: new Map(), seen: 0 };
      this.pods.set(name, p);
    }
    p.seen = this.o.clock.now();
    return p;
  }

  /** The pods are scheduling candidates now: not idle. */
  touch(pods: readonly string[]): void {
    const now = this.o.clock.now();
    for (const name of pods) {
      const p = this.pods.get(name);
      if (p !== undefined) p.seen = now;
    }
  }

  /**
   * Forgets pods that sent no event and were no candidate for `idleMs` (pods that left:
   * their names never come back in Kubernetes); returns their names. Bounds the index by
   * the pods that are live, not by every pod ever seen.
   */
  prune(idleMs: number): string[] {
    const cutoff = this.o.clock.now() - idleMs;
    const gone = [...this.pods].filter(([, p]) => p.seen < cutoff).map(([name]) => name);
    for (const name of gone) this.cleared(name);
    return gone;
  }

  private add(pod: string, p: Pod, key: number, until: number, engine: EngineHash | undefined): boolean {
    const had = p.blocks.get(key);
    if (had !== undefined) {
      p.blocks.delete(key);
      if (had.engine !== undefined && had.engine !== engine) p.engine.delete(had.engine);
    } else {
      let holders = this.keyPods.get(key);
      if (holders === undefined) {
        if (this.keyPods.size >= this.maxKeys) {
          this.stats.dropped++;
          return false;
        }
        holders = new Set();
        this.keyPods.set(key, holders);
      }
      if (holders.size >= this.maxPodsPerKey) {
        this.stats.dropped++;
        return false;
      }
      holders.add(pod);
    }
    p.blocks.set(key, { until, engine });
    if (engine !== undefined) p.engine.set(engine, key);
    while (p.blocks.size > this.maxPerPod) this.drop(pod, p, p.blocks.keys().next().value as number);
    return true;
  }

  private drop(pod: string, p: Pod, key: number): void {
    const e = p.blocks.get(key);
    if (e === undefined) return;
    p.blocks.delete(key);
    if (e.engine !== undefined) p.engine.delete(e.engine);
    this.unlink(pod, key);
  }

  private unlink(pod: string, key: number): void {
    const holders = this.keyPods.get(key);
    holders?.delete(pod);
    if (holders?.size === 0) this.keyPods.delete(key);
  }

  private sweep(): void {
    const now = this.o.clock.now();
    while (this.expiryHead < this.expiries.length && this.expiries[this.expiryHead]!.until <= now) {
      const { pod, key, until } = this.expiries[this.expiryHead++]!;
      const p = this.pods.get(pod);
      if (p?.blocks.get(key)?.until === until) {
        this.drop(pod, p, key);
        this.stats.expired++;
      }
    }
    if (this.expiryHead > 1024 && this.expiryHead * 2 > this.expiries.length) {
      this.expiries.splice(0, this.expiryHead);
      this.expiryHead = 0;
    }
  }
}
