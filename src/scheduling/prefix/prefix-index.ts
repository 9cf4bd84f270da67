/**
 * The approximate prefix index: which endpoints probably hold which prompt blocks in
 * their KV cache, learned from the gateway's own picks (no engine events needed).
 *
 * - `holders`: block key -> names of the endpoints it was sent to.
 * - one LRU per endpoint (a Map in recency order, oldest first) bounded by the
 *   capacity the caller passes (`lruCapacityPerServer`, default 31,250 = vLLM's block
 *   count for a Llama-3-8B on one H100). Evicting from an endpoint's LRU also removes
 *   the endpoint from `holders`, and a key with no holder left is deleted, so memory is
 *   at most capacity x endpoints entries, however long the gateway runs.
 * - Removing an endpoint (pod gone) frees all of its entries at once.
 *
 * Beside the blocks, the index keeps what the gateway's own picks tell about the pods'
 * caches in the making: the uncached prompt tokens sent to each endpoint whose answer has
 * not started (`pendingTokens`: the prefill in progress or queued, which a pod's waiting
 * queue does not show), and the prompt statistics that give a prompt's distinctive block
 * (`prompts`, see distinctive.ts).
 *
 * Shared by every request of a pool (one per scheduler, carried across config
 * reloads); all operations are synchronous.
 */

import { PromptStatistics } from "./distinctive.ts";

export const DEFAULT_LRU_CAPACITY_PER_SERVER = 31_250;

export interface PrefixIndexStats {
  /** Distinct block keys held by at least one endpoint (`prefix_indexer_size`). */
  readonly size: number;
  /** (key, endpoint) pairs, the sum of all LRU sizes. */
  readonly entries: number;
  readonly endpoints: number;
  /** Picks recorded with `recordHit`, and the blocks they matched out of their total. */
  readonly lookups: number;
  readonly matchedBlocks: number;
  readonly totalBlocks: number;
  /** matchedBlocks / totalBlocks since start; 0 before the first lookup (`prefix_indexer_hit_ratio`). */
  readonly hitRatio: number;
}

export class PrefixIndex {
  private readonly holders = new Map<number, Set<string>>();
  private readonly lrus = new Map<string, Map<number, true>>();
  private readonly pending = new Map<string, number>();
  /** Which leading blocks most prompts share (the distinctive block of a prompt). */
  readonly prompts = new PromptStatistics();
  private entryCount = 0;
  private lookups = 0;
  private matchedBlocks = 0;
  private totalBlocks = 0;

  /** Distinct block keys in the index. */
  get size(): number {
    return this.holders.size;
  }

  /**
   * Longest cached prefix per endpoint: walks the keys from block 0 and stops at the
   * first block no endpoint holds. An endpoint's count is the number of leading blocks
   * it holds without a gap. Endpoints with no match are absent. Does not touch the LRUs.
   */
  match(keys: readonly number[]): Map<string, number> {
    const out = new Map<string, number>();
    for (let i = 0; i < keys.length; i++) {
      const set = this.holders.get(keys[i]!);
      if (set === undefined) break;
      let extended = false;
      for (const name of set) {
        if ((out.get(name) ?? 0) === i) {
          out.set(name, i + 1);
          extended = true;
        }
      }
      if (!extended) break;
    }
    return out;
  }

  /**
   * Records that `endpoint` now holds every block of `keys`. Keys are touched back to
   * front, so block 0 is the most recent and a prefix loses its tail before its head
   * (as vLLM evicts). Then evicts the endpoint's oldest keys down to `capacity`.
   */
  record(endpoint: string, keys: readonly number[], capacity = DEFAULT_LRU_CAPACITY_PER_SERVER): void {
    if (keys.length === 0 || capacity <= 0) return;
    let lru = this.lrus.get(endpoint);
    if (lru === undefined) {
      lru = new Map();
      this.lrus.set(endpoint, lru);
    }
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      if (lru.delete(key)) {
        lru.set(key, true);
        continue;
      }
      lru.set(key, true);
      this.entryCount++;
      const set = this.holders.get(key);
      if (set === undefined) this.holders.set(key, new Set([endpoint]));
      else set.add(endpoint);
    }
    // One iterator for all evictions of this call: a fresh `keys().next()` per eviction
    // would skip over every slot deleted before it (JS Maps compact only on rehash), which
    // made each eviction cost tens of microseconds once an index was full.
    if (lru.size > capacity) {
      const oldest = lru.keys();
      while (lru.size > capacity) {
        const key = oldest.next().value as number;
        lru.delete(key);
        this.release(key, endpoint);
      }
    }
  }

  /**
   * Adds `tokens` (negative to take off) uncached prompt tokens on `endpoint`: sent there,
   * answer not started. Callers take off exactly what they added.
   */
  addPending(endpoint: string, tokens: number): void {
    const next = (this.pending.get(endpoint) ?? 0) + tokens;
    if (next > 0) this.pending.set(endpoint, next);
    else this.pending.delete(endpoint);
  }

  /** Uncached prompt tokens this gateway sent to `endpoint` whose answer has not started. */
  pendingTokens(endpoint: string): number {
    return this.pending.get(endpoint) ?? 0;
  }

  /** Forgets everything `endpoint` held (the endpoint left the pool). */
  removeEndpoint(endpoint: string): void {
    this.pending.delete(endpoint);
    const lru = this.lrus.get(endpoint);
    if (lru === undefined) return;
    for (const key of lru.keys()) this.release(key, endpoint);
    this.lrus.delete(endpoint);
  }

  /** Removes every endpoint not in `names` (call when the pool's endpoint set changes). */
  retain(names: Iterable<string>): void {
    const keep = new Set(names);
    for (const endpoint of [...this.lrus.keys(), ...this.pending.keys()])
      if (!keep.has(endpoint)) this.removeEndpoint(endpoint);
  }

  /** Told of every recorded pick (the hit ratio and hit length histograms). */
  onHit: ((matchedBlocks: number, totalBlocks: number) => void) | undefined;

  /** Counts one pick: the chosen endpoint matched `matched` of the request's `total` blocks. */
  recordHit(matched: number, total: number): void {
    if (total <= 0) return;
    this.onHit?.(matched, total);
    this.lookups++;
    this.matchedBlocks += matched;
    this.totalBlocks += total;
  }

  stats(): PrefixIndexStats {
    return {
      size: this.holders.size,
      entries: this.entryCount,
      endpoints: this.lrus.size,
      lookups: this.lookups,
      matchedBlocks: this.matchedBlocks,
      totalBlocks: this.totalBlocks,
      hitRatio: this.totalBlocks === 0 ? 0 : this.matchedBlocks / this.totalBlocks,
    };
  }

  private release(key: number, endpoint: string): void {
    this.entryCount--;
    const set = this.holders.get(key);
    if (set === undefined) return;
    set.delete(endpoint);
    if (set.size === 0) {
      this.holders.delete(key);
      this.prompts.forget(key);
    }
  }
}
