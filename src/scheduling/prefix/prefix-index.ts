/**
 * The approximate prefix index: which endpoints probably hold which prompt blocks in
 * their KV cache, learned from the gateway's own picks (no engine events needed).
 *
 * - `holders`: block key -> the endpoints it was sent to.
 * - one LRU per endpoint (recency order, oldest first) bounded by the
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
 *
 * Layout (no allocation per entry, so a full index of millions of entries neither feeds
 * the GC nor rehashes a Map; see docs/scheduling.md "The prefix index's layout"):
 * - block keys -> key ids in a `KeyTable` (sharded open addressing over typed arrays);
 *   per key id, the first entry holding it and its prompt-statistics weight;
 * - endpoints -> small ints (`endpointIds`; ids of removed endpoints are reused);
 * - one entry per (key, endpoint) pair, 32 bytes side by side: its key id, endpoint id,
 *   place in the endpoint's LRU (a doubly linked list, head = oldest) and in the key's
 *   holder list, and the key itself; freed entries are chained for reuse. A full index is
 *   a hundred MB or more, so what an eviction reads is one entry's cache line, the key's
 *   record (first holder and weight side by side) and its table slot;
 * - storage comes in fixed chunks of 16,384 entries or key ids, added as needed and never
 *   copied (a doubling copy or rehash of the whole index stalled one decision for up to
 *   0.4 s at a million keys) and never freed: its size follows the largest the index has
 *   been, which the capacities bound (capacity x endpoints entries).
 */

import { PromptStatistics } from "./distinctive.ts";
import { grownInt32, KeyTable } from "./key-table.ts";
import { MatchedLengths, NO_MATCH, type PrefixLengths } from "./matched-lengths.ts";
import { EntrySlab, KeyColumns, NONE } from "./prefix-storage.ts";

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

/** An entry's fields, side by side in the slab (half a cache line per entry, not six lines). */
const KEY = 0;
const EP = 1;
const LRU_PREV = 2;
const LRU_NEXT = 3;
const HOLD_PREV = 4;
const HOLD_NEXT = 5;

export class PrefixIndex {
  private readonly keys = new KeyTable();
  /** key id -> first entry holding it (NONE: none) and prompt-statistics weight, side by side. */
  private readonly perKey = new KeyColumns();
  /** entry id -> key id, endpoint id, LRU neighbours, holder-list neighbours, block key. */
  private readonly ent = new EntrySlab();
  /** endpoint id -> oldest entry, newest entry, entries. */
  private lruHead = new Int32Array(8).fill(NONE);
  private lruTail = new Int32Array(8).fill(NONE);
  private lruSize = new Int32Array(8);
  private readonly endpointIds = new Map<string, number>();
  private readonly endpointNames: string[] = [];
  private readonly freeEndpoints: number[] = [];
  /** Scratch for `match`: leading blocks per endpoint id (0 outside a call). */
  private scratch = new Int32Array(8);
  private readonly pending = new Map<string, number>();
  /** Keys with a prompt-statistics weight (see `prompts`). */
  private weighted = 0;
  /**
   * Which leading blocks most prompts share (the distinctive block of a prompt). Its
   * weights live beside the index's keys: a prompt's keys are counted only while the
   * index holds them (record the pick first, then the prompt), and a key leaving the
   * index takes its weight along.
   */
  readonly prompts: PromptStatistics;
  /** Bumped whenever an endpoint id is freed (a later endpoint may get it). */
  endpointEpoch = 0;
  private entryCount = 0;
  private lookups = 0;
  private matchedBlocks = 0;
  private totalBlocks = 0;

  constructor() {
    const self = this;
    this.prompts = new PromptStatistics(0.5, 4096, {
      get(key) {
        const k = self.keys.find(key);
        return k === NONE ? 0 : self.perKey.weight(k);
      },
      add(key, w) {
        const k = self.keys.find(key);
        if (k === NONE || !(w > 0)) return;
        const was = self.perKey.weight(k);
        if (was === 0) self.weighted++;
        self.perKey.setWeight(k, was + w);
      },
      forget(key) {
        const k = self.keys.find(key);
        if (k !== NONE) self.dropWeight(k);
      },
      divideAll(w) {
        self.perKey.divideWeights(w);
      },
      get size() {
        return self.weighted;
      },
    });
  }

  /** Distinct block keys in the index. */
  get size(): number {
    return this.keys.size;
  }

  /** The small-int id of an endpoint in the index, or -1. */
  endpointIdOf(name: string): number {
    return this.endpointIds.get(name) ?? NONE;
  }

  /**
   * Longest cached prefix per endpoint: walks the keys from block 0 and stops at the
   * first block no endpoint holds. An endpoint's count is the number of leading blocks
   * it holds without a gap. Endpoints with no match are absent. Does not touch the LRUs.
   */
  match(keys: readonly number[]): Map<string, number> {
    const m = this.matchLengths(keys);
    const out = new Map<string, number>();
    for (const name of this.endpointNames) {
      const n = m.get(name);
      if (n !== undefined) out.set(name, n);
    }
    return out;
  }

  /** As `match`, answered by a small typed-array record instead of a Map. */
  matchLengths(keys: readonly number[]): PrefixLengths {
    const scratch = this.scratch;
    const first = keys.length > 0 ? this.keys.find(keys[0]!) : NONE;
    // Holders of block 0: the only endpoints that can match at all.
    let matched = 0;
    for (let e = first === NONE ? NONE : this.perKey.head(first); e !== NONE; e = this.at(e, HOLD_NEXT)) {
      scratch[this.at(e, EP)] = 1;
      matched++;
    }
    if (matched === 0) return NO_MATCH;
    for (let i = 1; i < keys.length; i++) {
      const k = this.keys.find(keys[i]!);
      if (k === NONE) break;
      let extended = false;
      for (let e = this.perKey.head(k); e !== NONE; e = this.at(e, HOLD_NEXT)) {
        const ep = this.at(e, EP);
        if (scratch[ep] === i) {
          scratch[ep] = i + 1;
          extended = true;
        }
      }
      if (!extended) break;
    }
    const byId = scratch.slice(0, this.endpointNames.length);
    const lengths = new Int32Array(matched);
    const names = new Array<string>(matched);
    let n = 0;
    for (let e = this.perKey.head(first); e !== NONE; e = this.at(e, HOLD_NEXT)) {
      const ep = this.at(e, EP);
      lengths[n] = scratch[ep]!;
      names[n++] = this.endpointNames[ep]!;
      scratch[ep] = 0;
    }
    return new MatchedLengths(this, byId, names, lengths, this.endpointEpoch);
  }

  /**
   * Records that `endpoint` now holds every block of `keys`. Keys are touched back to
   * front, so block 0 is the most recent and a prefix loses its tail before its head
   * (as vLLM evicts). Then evicts the endpoint's oldest keys down to `capacity`.
   */
  record(endpoint: string, keys: readonly number[], capacity = DEFAULT_LRU_CAPACITY_PER_SERVER): void {
    if (keys.length === 0 || capacity <= 0) return;
    const ep = this.endpointFor(endpoint);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      let k = this.keys.find(key);
      if (k !== NONE) {
        const held = this.entryOf(k, ep);
        if (held !== NONE) {
          this.unlinkLru(ep, held);
          this.pushLru(ep, held);
          continue;
        }
      } else {
        k = this.keys.insert(key);
        this.perKey.ensure(k);
        this.perKey.setHead(k, NONE);
      }
      const e = this.ent.alloc();
      this.put(e, KEY, k);
      this.ent.setKey(e, key);
      this.put(e, EP, ep);
      const head = this.perKey.head(k);
      this.put(e, HOLD_PREV, NONE);
      this.put(e, HOLD_NEXT, head);
      if (head !== NONE) this.put(head, HOLD_PREV, e);
      this.perKey.setHead(k, e);
      this.pushLru(ep, e);
      this.entryCount++;
    }
    while (this.lruSize[ep]! > capacity) {
      const oldest = this.lruHead[ep]!;
      this.unlinkLru(ep, oldest);
      this.release(oldest);
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
    const ep = this.endpointIds.get(endpoint);
    if (ep === undefined) return;
    for (let e = this.lruHead[ep]!; e !== NONE; ) {
      const next = this.at(e, LRU_NEXT);
      this.release(e);
      e = next;
    }
    this.lruHead[ep] = NONE;
    this.lruTail[ep] = NONE;
    this.lruSize[ep] = 0;
    this.endpointIds.delete(endpoint);
    this.freeEndpoints.push(ep);
    this.endpointEpoch++;
  }

  /** Removes every endpoint not in `names` (call when the pool's endpoint set changes). */
  retain(names: Iterable<string>): void {
    const keep = new Set(names);
    for (const endpoint of [...this.endpointIds.keys(), ...this.pending.keys()])
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
      size: this.keys.size,
      entries: this.entryCount,
      endpoints: this.endpointIds.size,
      lookups: this.lookups,
      matchedBlocks: this.matchedBlocks,
      totalBlocks: this.totalBlocks,
      hitRatio: this.totalBlocks === 0 ? 0 : this.matchedBlocks / this.totalBlocks,
    };
  }

  /** Entry slots allocated (live + free): the arrays' high-water mark, for tests of boundedness. */
  get allocatedEntries(): number {
    return this.ent.allocated;
  }

  /** Field `f` of entry `e`. */
  private at(e: number, f: number): number {
    return this.ent.field(e, f);
  }

  private put(e: number, f: number, v: number): void {
    this.ent.set(e, f, v);
  }

  private endpointFor(name: string): number {
    let ep = this.endpointIds.get(name);
    if (ep !== undefined) return ep;
    ep = this.freeEndpoints.pop() ?? this.endpointNames.length;
    this.endpointIds.set(name, ep);
    this.endpointNames[ep] = name;
    if (ep >= this.lruHead.length) {
      this.lruHead = grownInt32(this.lruHead, ep + 1, NONE);
      this.lruTail = grownInt32(this.lruTail, ep + 1, NONE);
      this.lruSize = grownInt32(this.lruSize, ep + 1);
      this.scratch = grownInt32(this.scratch, ep + 1);
    }
    this.lruHead[ep] = NONE;
    this.lruTail[ep] = NONE;
    this.lruSize[ep] = 0;
    return ep;
  }

  /** The entry of (key id, endpoint id), or NONE: a walk of the key's holders. */
  private entryOf(k: number, ep: number): number {
    for (let e = this.perKey.head(k); e !== NONE; e = this.at(e, HOLD_NEXT))
      if (this.at(e, EP) === ep) return e;
    return NONE;
  }

  /** Appends entry `e` as the newest of endpoint `ep`'s LRU. */
  private pushLru(ep: number, e: number): void {
    const tail = this.lruTail[ep]!;
    this.put(e, LRU_PREV, tail);
    this.put(e, LRU_NEXT, NONE);
    if (tail === NONE) this.lruHead[ep] = e;
    else this.put(tail, LRU_NEXT, e);
    this.lruTail[ep] = e;
    this.lruSize[ep]!++;
  }

  private unlinkLru(ep: number, e: number): void {
    const prev = this.at(e, LRU_PREV);
    const next = this.at(e, LRU_NEXT);
    if (prev === NONE) this.lruHead[ep] = next;
    else this.put(prev, LRU_NEXT, next);
    if (next === NONE) this.lruTail[ep] = prev;
    else this.put(next, LRU_PREV, prev);
    this.lruSize[ep]!--;
  }

  private dropWeight(k: number): void {
    if (this.perKey.weight(k) === 0) return;
    this.perKey.setWeight(k, 0);
    this.weighted--;
  }

  /**
   * Drops entry `e` (already out of its LRU, or its whole LRU is being dropped) from its
   * key's holders; a key with no holder left leaves the index and the prompt statistics.
   */
  private release(e: number): void {
    this.entryCount--;
    const k = this.at(e, KEY);
    const prev = this.at(e, HOLD_PREV);
    const next = this.at(e, HOLD_NEXT);
    if (prev === NONE) this.perKey.setHead(k, next);
    else this.put(prev, HOLD_NEXT, next);
    if (next !== NONE) this.put(next, HOLD_PREV, prev);
    if (this.perKey.head(k) === NONE) {
      this.dropWeight(k);
      this.keys.remove(this.ent.key(e), k);
    }
    this.ent.release(e);
  }
}
