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
 * reloads); all operations are synchronous, and a pick recorded with `recordLater` is
 * applied in a microtask or before the next read, whichever comes first.
 *
 * Layout (holder-store.ts; no allocation per entry, so a full index of millions of entries
 * neither feeds the GC nor rehashes a Map; see docs/scheduling.md "The prefix index's
 * layout"):
 * - block keys in a `KeyRecords` table (sharded open addressing over typed arrays), each
 *   slot holding the key, the first entry holding it, its prompt-statistics weight and its
 *   hash;
 * - endpoints -> small ints (`endpointIds`; ids of removed endpoints are reused);
 * - one entry per (key, endpoint) pair, 32 bytes side by side: its endpoint id, place in
 *   the endpoint's LRU (a doubly linked list, head = oldest: endpoint-lrus.ts) and in the key's holder
 *   list, the key itself and its hash (a record hashes each key once; its eviction reuses
 *   the hash); freed entries are chained for reuse. A full index is a
 *   hundred MB or more, so what an eviction reads is one entry's cache line and its key's
 *   table slot (holders and weight in it), and a new key is one slot;
 * - entries come in fixed chunks of 16,384, added as needed and never
 *   copied (a doubling copy or rehash of the whole index stalled one decision for up to
 *   0.4 s at a million keys) and never freed: its size follows the largest the index has
 *   been, which the capacities bound (capacity x endpoints entries).
 */

import { DeferredPicks } from "./deferred-picks.ts";
import { PromptStatistics } from "./distinctive.ts";
import { EP, HOLD_NEXT, HolderStore } from "./holder-store.ts";
import { IndexWeights } from "./index-weights.ts";
import { grownInt32 } from "./key-table.ts";
import { MatchedLengths, NO_MATCH, type PrefixLengths } from "./matched-lengths.ts";
import { LastMatch } from "./prefix-memos.ts";
import { NONE } from "./prefix-storage.ts";

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
  /** The keys, their entries and the endpoints' LRUs, by endpoint id (holder-store.ts). */
  private readonly store = new HolderStore();
  private readonly endpointIds = new Map<string, number>();
  private readonly endpointNames: string[] = [];
  private readonly freeEndpoints: number[] = [];
  /** Scratch for `match`: leading blocks per endpoint id (0 outside a call). */
  private scratch = new Int32Array(8);
  private readonly pending = new Map<string, number>();
  /**
   * Which leading blocks most prompts share (the distinctive block of a prompt). Its
   * weights live beside the index's keys: a prompt's keys are counted only while the
   * index holds them (record the pick first, then the prompt), and a key leaving the
   * index takes its weight along.
   */
  readonly prompts: PromptStatistics;
  /** The statistics' weights, in the index's key slots (index-weights.ts). */
  private readonly weights = new IndexWeights(this.store, () => {
    if (this.later.size > 0) this.settle();
  });
  /** Bumped whenever an endpoint id is freed (a later endpoint may get it). */
  endpointEpoch = 0;
  private lookups = 0;
  private matchedBlocks = 0;
  private totalBlocks = 0;

  constructor() {
    this.prompts = new PromptStatistics(0.5, 4096, this.weights);
  }

  /** Distinct block keys in the index. */
  get size(): number {
    if (this.later.size > 0) this.settle();
    return this.store.keys.size;
  }

  /** The small-int id of an endpoint in the index, or -1. */
  endpointIdOf(name: string): number {
    if (this.later.size > 0) this.settle();
    return this.endpointIds.get(name) ?? NONE;
  }

  /**
   * `endpointIdOf` without applying deferred picks first, for `MatchedLengths`: an id a
   * deferred pick would add is new (or freed, which bumps the epoch), so a match made
   * before answers 0 for it either way, and reading a match (the pick's hit) does not pull
   * the deferred record back into the request.
   */
  matchedIdOf(name: string): number {
    return this.endpointIds.get(name) ?? NONE;
  }

  /** Picks recorded by `recordLater` and not applied yet, oldest first. */
  private readonly later = new DeferredPicks((pick) => {
    if (!pick.prompt) {
      this.recordNow(pick.endpoint, pick.keys, pick.capacity, 0);
      return;
    }
    // = recordNow, then prompts.record(keys): the record adds each key's weight while it
    // has the key's slot in hand (before its evictions, which take a key's weight along
    // whether it was added before or after), instead of probing all the keys again.
    const w = this.prompts.nextWeight();
    this.recordNow(pick.endpoint, pick.keys, pick.capacity, w);
    this.prompts.added(w);
  });

  /**
   * `record(endpoint, keys, capacity)` (and, with `prompt`, `prompts.record(keys)`) after
   * the caller's synchronous work: in a microtask, or before anything reads or changes the
   * index if that comes first. So every later match, record, stats or statistics read sees
   * exactly what it would have seen had the pick been recorded at once, and the pick's
   * caller (the request whose decision it was) does not wait for it: recording a new
   * prompt's 256 blocks in a full index is most of a decision's time. GIE's prefix plugin
   * also records in PreRequest off the request path (in a goroutine).
   */
  recordLater(endpoint: string, keys: readonly number[], capacity: number, prompt: boolean): void {
    if (keys.length > 0) this.later.add({ endpoint, keys, capacity, prompt });
  }

  /** Picks `recordLater` has not applied yet (0 once the microtask ran or anything read the index). */
  get deferred(): number {
    return this.later.size;
  }

  /** Applies the picks `recordLater` deferred, oldest first (every read and change of the index calls it). */
  settle(): void {
    this.later.settle();
  }

  /**
   * Longest cached prefix per endpoint: walks the keys from block 0 and stops at the
   * first block no endpoint holds. An endpoint's count is the number of leading blocks
   * it holds without a gap. Endpoints with no match are absent. Does not touch the LRUs.
   */
  match(keys: readonly number[]): Map<string, number> {
    if (this.later.size > 0) this.settle();
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
    if (this.later.size > 0) this.settle();
    const last = this.lastMatch.get(keys, this.store.holdersVersion);
    if (last !== undefined) return last;
    const lengths = this.matchNow(keys);
    // No match (a new prompt, whose block 0 no endpoint holds) is one probe to find again:
    // not worth copying its keys; the memo keeps the last prompt that matched.
    if (lengths !== NO_MATCH) this.lastMatch.set(keys, this.store.holdersVersion, lengths);
    return lengths;
  }

  /** The last match (prefix-memos.ts). */
  private readonly lastMatch = new LastMatch();

  private matchNow(keys: readonly number[]): PrefixLengths {
    const scratch = this.scratch;
    const store = this.store;
    const table = store.keys;
    const first = keys.length > 0 ? table.head(keys[0]!) : NONE;
    // A prompt whose block 0 no endpoint holds (a new one) matches nothing: its other
    // blocks are not read here (its record reads them, after the decision).
    if (first === NONE) return NO_MATCH;
    // Holders of block 0: the only endpoints that can match at all.
    let matched = 0;
    for (let e = first; e !== NONE; e = this.at(e, HOLD_NEXT)) {
      scratch[this.at(e, EP)] = 1;
      matched++;
    }
    if (matched === 0) return NO_MATCH;
    // The slots of the keys ahead are touched together, so their misses overlap, in windows
    // that double (16, 32, 64...): a prompt that shares its first blocks only (a system
    // prompt) warms about twice what it matches, not all its 256 blocks (its record reads
    // the rest, after the decision); a full match takes four windows.
    let warmed = 1;
    let window = 16;
    for (let i = 1; i < keys.length; i++) {
      if (i === warmed) {
        warmed = Math.min(keys.length, warmed + window);
        window *= 2;
        store.warmth += table.warm(keys, i, warmed);
      }
      const head = table.head(keys[i]!);
      if (head === NONE) break;
      let extended = false;
      for (let e = head; e !== NONE; e = this.at(e, HOLD_NEXT)) {
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
    for (let e = first; e !== NONE; e = this.at(e, HOLD_NEXT)) {
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
    if (this.later.size > 0) this.settle();
    this.recordNow(endpoint, keys, capacity, 0);
  }

  /** `record`, adding `w` (> 0; 0: none) to each key's prompt-statistics weight, as `prompts.record` would after it. */
  private recordNow(endpoint: string, keys: readonly number[], capacity: number, w: number): void {
    // The store adds the weights as it records, except to a repeated prompt's keys.
    if (keys.length > 0 && capacity > 0 && this.store.record(this.endpointFor(endpoint), keys, capacity, w))
      return;
    this.weights.addWeights(keys, w);
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

  /** `fn(tokens, endpoint)` for each endpoint with pending tokens (`pendingTokens` > 0), none for the others. */
  forEachPending(fn: (tokens: number, endpoint: string) => void): void {
    this.pending.forEach(fn);
  }

  /** Forgets everything `endpoint` held (the endpoint left the pool). */
  removeEndpoint(endpoint: string): void {
    if (this.later.size > 0) this.settle();
    this.pending.delete(endpoint);
    const ep = this.endpointIds.get(endpoint);
    if (ep === undefined) return;
    this.store.dropAll(ep);
    this.endpointIds.delete(endpoint);
    this.freeEndpoints.push(ep);
    this.endpointEpoch++;
  }

  /** Removes every endpoint not in `names` (call when the pool's endpoint set changes). */
  retain(names: Iterable<string>): void {
    if (this.later.size > 0) this.settle();
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
    if (this.later.size > 0) this.settle();
    return {
      size: this.store.keys.size,
      entries: this.store.entryCount,
      endpoints: this.endpointIds.size,
      lookups: this.lookups,
      matchedBlocks: this.matchedBlocks,
      totalBlocks: this.totalBlocks,
      hitRatio: this.totalBlocks === 0 ? 0 : this.matchedBlocks / this.totalBlocks,
    };
  }

  /** Entry slots allocated (live + free): the arrays' high-water mark, for tests of boundedness. */
  get allocatedEntries(): number {
    if (this.later.size > 0) this.settle();
    return this.store.ent.allocated;
  }

  /** Keys looked up in the key table so far (`KeyRecords.probes`; tests, benchmarks). */
  get keyProbes(): number {
    return this.store.keys.probes;
  }

  /** Key slots touched ahead of a pass so far (`KeyRecords.warmed`; tests, benchmarks). */
  get keysWarmed(): number {
    return this.store.keys.warmed;
  }

  /** Records that found their prompt already the endpoint's newest and relinked nothing (tests, benchmarks). */
  get repeatedRecords(): number {
    if (this.later.size > 0) this.settle();
    return this.store.repeated;
  }

  /** Field `f` of entry `e`. */
  private at(e: number, f: number): number {
    return this.store.ent.field(e, f);
  }

  private endpointFor(name: string): number {
    let ep = this.endpointIds.get(name);
    if (ep !== undefined) return ep;
    ep = this.freeEndpoints.pop() ?? this.endpointNames.length;
    this.endpointIds.set(name, ep);
    this.endpointNames[ep] = name;
    if (ep >= this.scratch.length) this.scratch = grownInt32(this.scratch, ep + 1);
    this.store.lrus.reset(ep);
    return ep;
  }
}
