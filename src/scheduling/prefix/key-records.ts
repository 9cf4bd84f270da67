/**
 * The prefix index's block keys with their per-key record in the table slot itself: key ->
 * (first holding entry, prompt-statistics weight). A full 64-endpoint index holds two
 * million keys in a structure far larger than the CPU caches, so every random line a
 * block touches is a cache miss (~0.1 µs): keeping the key's record in its slot makes
 * looking a key up and reading its holders one miss instead of two (slot, then a per-id
 * column), and a key leaving the index touches no per-id storage at all (no id free list
 * written through a random line). Recording a new prompt in a full index evicts one old
 * entry per new block, so this is most of what a large prompt's record costs.
 *
 * - Slots are 32 bytes, `[key, head + 1, weight, hash]` (head + 1 = 0: empty), two to a
 *   cache line; linear probing in 8,192 shards picked by the hash's top bits, each
 *   doubling on its own (a whole-table doubling at a million keys stalled one decision
 *   for 0.36 s); removal by backward shift, no tombstones.
 * - The slot keeps its key's hash (`keyHash`), so a backward shift and a doubling read a
 *   moved key's home from the slot instead of hashing it again, and callers that carry a
 *   key's hash (the prefix index keeps it in the key's entries) look it up with `*Hashed`
 *   calls without hashing at all: a new prompt's record hashed each block about seven
 *   times (warm, find, the evicted key's warm and find, ~3 for the shift), now once.
 * - A shard doubles when it would be more than 5/8 full: at half full a full 64-endpoint
 *   index (~244 keys a shard, limit 256) kept doubling shards as keys came and went, fresh
 *   memory in records (docs/scheduling.md §5, "Shards double at 5/8 full"). (Staggering the
 *   shards' limits, 0.3-0.6, so that they do not all double within the same few dozen
 *   records of a young index, was tried: no measurable change in a young index's tail, and
 *   up to 60 % more table memory.)
 * - A slot moves (backward shift, a shard's doubling), so callers hold keys, never slot
 *   positions; each call probes again, which after the first probe of a key reads a line
 *   already in cache.
 * - Keys compare with `===` after mapping -0 to 0 (as a Map's SameValueZero; NaN is not a
 *   valid key), and the slot comes from a mix of the key's 64 bits (key-table.ts `mix`).
 */
import { mix } from "./key-table.ts";

/**
 * 8,192 shards: at a full 64-endpoint index (2M keys) a shard holds ~250 keys in 512-1,024
 * slots (16-32 KiB), so the doubling of one, which allocates fresh memory, costs tens of
 * µs. With 1,024 shards it was a 256 KiB array: 0.7-1.5 ms on the benchmark VM (fresh
 * pages cost 10-30 µs each there), and the shards that crossed half full as a full index's
 * keys came and went put those in the decision-time tail.
 */
const SHARD_BITS = 13;
const SHARDS = 1 << SHARD_BITS;
/** Doubles per slot, and the fields' offsets in it. */
const SLOT = 4;
const HEAD = 1;
const WEIGHT = 2;
const HASH = 3;

/** The hash a key's slot is placed by (`mix` of the key, -0 read as 0); what the `*Hashed` calls take. */
export function keyHash(key: number): number {
  return mix(key === 0 ? 0 : key);
}

export class KeyRecords {
  private readonly shards: Float64Array<ArrayBuffer>[] = [];
  /** Per shard: slots - 1 (a power of two minus one). */
  private readonly masks = new Int32Array(SHARDS);
  private readonly counts = new Int32Array(SHARDS);
  /** Per shard: the most keys it holds before doubling. */
  private readonly limits = new Int32Array(SHARDS);
  private count = 0;
  /** Keys with a non-zero weight. */
  private weightedCount = 0;
  /** Keys looked up (`head`, `find`, and every weight or holder read or write by key): for tests and benchmarks of what a call reads. */
  probes = 0;
  /** Slots `warm` touched (tests and benchmarks, as `probes`). */
  warmed = 0;
  /**
   * Weight adds deferred (`deferWeightsAt`): `pendingW[0..pendingN)` in the order made, each
   * to be added to the weight of every key `pendingShards`/`pendingSlots` place (the first
   * `pendingKeys`). Applied (`flushWeights`) before anything reads or changes a weight, or
   * moves or places a slot, so no caller sees them pending.
   */
  private readonly pendingW = new Float64Array(PENDING_MAX);
  private pendingN = 0;
  private pendingShards: Int32Array = NO_PLACES;
  private pendingSlots: Int32Array = NO_PLACES;
  private pendingKeys = 0;

  constructor() {
    // Every shard starts as the shared empty one (no memory per shard until its first key).
    for (let s = 0; s < SHARDS; s++) this.shards.push(EMPTY);
    this.masks.fill(1);
  }

  /** Keys in the table. */
  get size(): number {
    return this.count;
  }

  /** Keys with a non-zero weight. */
  get weighted(): number {
    if (this.pendingN > 0) this.flushWeights();
    return this.weightedCount;
  }

  /** The first entry holding `key`, or -1 when the key is absent. */
  head(key: number): number {
    if (key === 0) key = 0;
    this.probes++;
    const h = mix(key);
    const slots = this.shards[h >>> (32 - SHARD_BITS)]!;
    const mask = this.masks[h >>> (32 - SHARD_BITS)]!;
    for (let i = (h & mask) * SLOT; ; i = (i + SLOT) & (mask * SLOT + SLOT - 1)) {
      const head1 = slots[i + HEAD]!;
      if (head1 === 0) return -1;
      if (slots[i] === key) return head1 - 1;
    }
  }

  /**
   * Reads the home slot of each of `keys[from..to)` and nothing else: a loop this small lets
   * the CPU have many of those cache misses in flight at once, so the caller's real pass
   * over the same keys, each step of which depends on the last, finds them in cache. Returns
   * a meaningless number (keep it, so the reads are not optimised away).
   */
  warm(keys: ArrayLike<number>, from: number, to: number): number {
    let acc = 0;
    if (to > from) this.warmed += to - from;
    for (let j = from; j < to; j++) {
      const h = mix(keys[j]!);
      acc += this.shards[h >>> (32 - SHARD_BITS)]![(h & this.masks[h >>> (32 - SHARD_BITS)]!) * SLOT + HEAD]!;
    }
    return acc;
  }

  /**
   * `warm` for a record's pass, which probes past a key's home slot (to the empty slot
   * that ends an absent key's run; a removal's backward shift over the run after it):
   * stores each key's hash in `hashes[j]` for `findHashed`, and touches the home slot's
   * line and the two after it.
   */
  hashAndWarm(keys: ArrayLike<number>, hashes: Int32Array, from: number, to: number): number {
    let acc = 0;
    if (to > from) this.warmed += to - from;
    for (let j = from; j < to; j++) {
      const h = keyHash(keys[j]!);
      hashes[j] = h;
      acc += this.touch(h);
    }
    return acc;
  }

  /** `hashAndWarm` for keys whose hashes the caller has (`hashes[from..to)`). */
  warmHashed(hashes: Int32Array, from: number, to: number): number {
    let acc = 0;
    if (to > from) this.warmed += to - from;
    for (let j = from; j < to; j++) acc += this.touch(hashes[j]!);
    return acc;
  }

  /**
   * Reads the line of hash `h`'s home slot and the two after it (the next 4-6 slots, which
   * an absent key's probe or a removal's shift often reach at a shard's load; a third line
   * read beside the second: −8 to −24 % a new prompt's record in process, a fourth: no gain).
   */
  private touch(h: number): number {
    const s = h >>> (32 - SHARD_BITS);
    const mask = this.masks[s]!;
    const slots = this.shards[s]!;
    const wrap = mask * SLOT + SLOT - 1;
    const i = (h & mask) * SLOT;
    return slots[i + HEAD]! + slots[(i + 2 * SLOT) & wrap]! + slots[(i + 4 * SLOT) & wrap]!;
  }

  /** The key's weight (0 when absent). */
  weight(key: number): number {
    if (this.pendingN > 0) this.flushWeights();
    const i = this.slotOf(key);
    return i < 0 ? 0 : this.shards[this.shard]![i + WEIGHT]!;
  }

  /**
   * Where `key` is, in one probe: its slot's offset (>= 0) in shard `foundShard`, or, when
   * absent, -1 - the offset of the empty slot that ends its probe run (for `addAt`).
   */
  find(key: number): number {
    if (key === 0) key = 0;
    return this.findHashed(key, mix(key));
  }

  /** `find` for a key whose `keyHash` is `h`. */
  findHashed(key: number, h: number): number {
    if (key === 0) key = 0;
    this.probes++;
    const s = h >>> (32 - SHARD_BITS);
    const slots = this.shards[s]!;
    const wrap = this.masks[s]! * SLOT + SLOT - 1;
    this.shard = s;
    for (let i = (h & this.masks[s]!) * SLOT; ; i = (i + SLOT) & wrap) {
      if (slots[i + HEAD] === 0) return -1 - i;
      if (slots[i] === key) return i;
    }
  }

  /** Shard of the last `find` or `addAt`. */
  get foundShard(): number {
    return this.shard;
  }

  /** The first entry holding the key in slot `i` of shard `s` (from `find`). */
  headAt(s: number, i: number): number {
    return this.shards[s]![i + HEAD]! - 1;
  }

  /** Sets the first holder of the key in slot `i` of shard `s` (an entry, not -1). */
  setHeadAt(s: number, i: number, entry: number): void {
    this.shards[s]![i + HEAD] = entry + 1;
  }

  /** Adds `w` (> 0) to the weight of the key in slot `i` of shard `s`. */
  addWeightAt(s: number, i: number, w: number): void {
    if (this.pendingN > 0) this.flushWeights();
    const slots = this.shards[s]!;
    if (slots[i + WEIGHT] === 0) this.weightedCount++;
    slots[i + WEIGHT]! += w;
  }

  /**
   * Adds `key`, absent, where `find` said (`absent` = its answer, no change since) unless
   * the shard must double first; returns its slot's offset (shard in `foundShard`).
   */
  addAt(key: number, entry: number, absent: number, hash = keyHash(key)): number {
    if (this.pendingN > 0) this.flushWeights();
    if (key === 0) key = 0;
    const s = this.shard;
    if (this.counts[s]! >= this.limits[s]!) return this.addHashed(key, entry, hash);
    const slots = this.shards[s]!;
    const i = -1 - absent;
    slots[i] = key;
    slots[i + HEAD] = entry + 1;
    slots[i + WEIGHT] = 0;
    slots[i + HASH] = hash;
    this.counts[s]!++;
    this.count++;
    return i;
  }

  /** The first j whose key weighs less than `bar` (absent: 0), or -1; probes only up to j. */
  firstBelow(keys: readonly number[], bar: number): number {
    if (this.pendingN > 0) this.flushWeights();
    for (let j = 0; j < keys.length; j++) {
      const i = this.slotOf(keys[j]!);
      if ((i < 0 ? 0 : this.shards[this.shard]![i + WEIGHT]!) < bar) return j;
    }
    return -1;
  }

  /** Adds `key` (absent) with `entry` as its first holder and no weight; returns its slot's offset (shard in `foundShard`). */
  add(key: number, entry: number): number {
    return this.addHashed(key, entry, keyHash(key));
  }

  private addHashed(key: number, entry: number, h: number): number {
    if (this.pendingN > 0) this.flushWeights();
    if (key === 0) key = 0;
    const s = h >>> (32 - SHARD_BITS);
    if (this.counts[s]! >= this.limits[s]!) this.growShard(s);
    const slots = this.shards[s]!;
    const wrap = this.masks[s]! * SLOT + SLOT - 1;
    let i = (h & this.masks[s]!) * SLOT;
    while (slots[i + HEAD] !== 0) i = (i + SLOT) & wrap;
    slots[i] = key;
    slots[i + HEAD] = entry + 1;
    slots[i + WEIGHT] = 0;
    slots[i + HASH] = h;
    this.counts[s]!++;
    this.count++;
    this.shard = s;
    return i;
  }

  /** Sets the first holder of a present `key`; -1 removes the key (and its weight). */
  setHead(key: number, entry: number): void {
    this.setHeadHashed(key, keyHash(key), entry);
  }

  /** `setHead` for a key whose `keyHash` is `h`. */
  setHeadHashed(key: number, h: number, entry: number): void {
    const i = this.findHashed(key, h);
    if (i < 0) return;
    if (entry >= 0) this.shards[this.shard]![i + HEAD] = entry + 1;
    else this.removeAt(this.shard, i);
  }

  /** Adds `w` to a present key's weight (absent keys are not kept: nothing happens). */
  addWeight(key: number, w: number): void {
    const i = this.slotOf(key);
    if (i >= 0 && w > 0) this.addWeightAt(this.shard, i, w);
  }

  /**
   * Where each of `keys` sits: `shardAt[j]` and `slotAt[j]` (its slot's offset in the
   * shard; -1 when absent). Valid until a key is added or removed (slots move then:
   * backward shifts and doublings); weights may change meanwhile. For `addWeightsAt` and
   * `firstBelowAt`: a prompt's weights read and then added, each without probing again.
   */
  locate(keys: readonly number[], shardAt: Int32Array, slotAt: Int32Array): void {
    if (this.pendingN > 0) this.flushWeights();
    for (let j = 0; j < keys.length; j++) {
      slotAt[j] = this.slotOf(keys[j]!);
      shardAt[j] = this.shard;
    }
  }

  /**
   * `addWeight` for the first `n` keys `locate` placed; returns the least of their weights
   * after it (an absent key's 0; -Infinity when nothing was added), which they stay at or
   * above until a weight is cleared or divided or a key comes or goes (`PlacedKeys.floor`).
   */
  addWeightsAt(shardAt: Int32Array, slotAt: Int32Array, n: number, w: number): number {
    if (this.pendingN > 0) this.flushWeights();
    return this.addWeightsNow(shardAt, slotAt, n, w);
  }

  private addWeightsNow(shardAt: Int32Array, slotAt: Int32Array, n: number, w: number): number {
    if (!(w > 0)) return Number.NEGATIVE_INFINITY;
    let least = Number.POSITIVE_INFINITY;
    for (let j = 0; j < n; j++) {
      const i = slotAt[j]!;
      if (i < 0) {
        least = 0;
        continue;
      }
      const slots = this.shards[shardAt[j]!]!;
      const old = slots[i + WEIGHT]!;
      if (old === 0) this.weightedCount++;
      const v = old + w;
      slots[i + WEIGHT] = v;
      if (v < least) least = v;
    }
    return least;
  }

  /**
   * `addWeightsAt(shardAt, slotAt, n, w)` deferred (w > 0; the places from `locate`, which
   * no slot move or other `locate` has changed since): kept, and added in the same order
   * when anything next reads or changes a weight or moves or places a slot (every other
   * method applies them first), or after `PENDING_MAX` of them. A repeated prompt's record
   * adds the same prompt's weights again and again; deferred, its 256 weights are read and
   * written once a batch instead of once a request (issue 19, fifteenth pass). Places other
   * than the pending ones apply those first.
   */
  deferWeightsAt(shardAt: Int32Array, slotAt: Int32Array, n: number, w: number): void {
    if (
      this.pendingN > 0 &&
      (shardAt !== this.pendingShards || slotAt !== this.pendingSlots || n !== this.pendingKeys)
    )
      this.flushWeights();
    if (this.pendingN === PENDING_MAX) this.flushWeights();
    this.pendingShards = shardAt;
    this.pendingSlots = slotAt;
    this.pendingKeys = n;
    this.pendingW[this.pendingN++] = w;
  }

  /**
   * Applies the deferred adds: each key's weight gets them in the order they were made, as
   * `addWeightsAt` one call at a time would have (the same sums, to the bit). A key placed
   * twice (the same slot at two positions) got each call's add at both positions in turn:
   * then the adds go call by call, as they did.
   */
  private flushWeights(): void {
    const n = this.pendingN;
    this.pendingN = 0;
    const ws = this.pendingW;
    const shardAt = this.pendingShards;
    const slotAt = this.pendingSlots;
    const keys = this.pendingKeys;
    // Each slot once: its weight put aside and the slot marked (NaN, which no weight is), so
    // a second place of the same slot shows.
    if (this.flushScratch.length < keys) this.flushScratch = new Float64Array(keys);
    const was = this.flushScratch;
    let twice = false;
    let j = 0;
    for (; j < keys; j++) {
      const i = slotAt[j]!;
      if (i < 0) continue;
      const slots = this.shards[shardAt[j]!]!;
      const v = slots[i + WEIGHT]!;
      if (Number.isNaN(v)) {
        twice = true;
        break;
      }
      was[j] = v;
      slots[i + WEIGHT] = Number.NaN;
    }
    if (twice) {
      for (let k = 0; k < j; k++)
        if (slotAt[k]! >= 0) this.shards[shardAt[k]!]![slotAt[k]! + WEIGHT] = was[k]!;
      for (let c = 0; c < n; c++) this.addWeightsNow(shardAt, slotAt, keys, ws[c]!);
      return;
    }
    for (j = 0; j < keys; j++) {
      const i = slotAt[j]!;
      if (i < 0) continue;
      let v = was[j]!;
      if (v === 0) this.weightedCount++;
      for (let c = 0; c < n; c++) v += ws[c]!;
      this.shards[shardAt[j]!]![i + WEIGHT] = v;
    }
  }

  private flushScratch = new Float64Array(256);

  /** Weight adds deferred and not yet applied (tests). */
  get pendingWeights(): number {
    return this.pendingN;
  }

  /** The first j < n whose key (placed by `locate`) weighs less than `bar` (absent: 0), or -1. */
  firstBelowAt(shardAt: Int32Array, slotAt: Int32Array, n: number, bar: number): number {
    if (this.pendingN > 0) this.flushWeights();
    for (let j = 0; j < n; j++) {
      const i = slotAt[j]!;
      if ((i < 0 ? 0 : this.shards[shardAt[j]!]![i + WEIGHT]!) < bar) return j;
    }
    return -1;
  }

  /** Drops a key's weight (the key stays). */
  clearWeight(key: number): void {
    if (this.pendingN > 0) this.flushWeights();
    const i = this.slotOf(key);
    const slots = this.shards[this.shard]!;
    if (i < 0 || slots[i + WEIGHT] === 0) return;
    slots[i + WEIGHT] = 0;
    this.weightedCount--;
  }

  /** Divides every weight by `w` (the statistics' decay). */
  divideWeights(w: number): void {
    if (this.pendingN > 0) this.flushWeights();
    for (const slots of this.shards)
      if (slots !== EMPTY) for (let i = WEIGHT; i < slots.length; i += SLOT) slots[i]! /= w;
  }

  /** Shard of the last `find`, `addAt` or `slotOf`. */
  private shard = 0;

  /** Offset of `key`'s slot in its shard (the shard in `this.shard`), or -1. */
  private slotOf(key: number): number {
    const i = this.find(key);
    return i < 0 ? -1 : i;
  }

  /**
   * Empties slot `i` of shard `s`. Backward shift: later members of the probe run move
   * into the hole unless their home slot is cyclically within (hole, their slot].
   */
  private removeAt(s: number, i: number): void {
    if (this.pendingN > 0) this.flushWeights();
    const slots = this.shards[s]!;
    const mask = this.masks[s]!;
    const wrap = mask * SLOT + SLOT - 1;
    if (slots[i + WEIGHT] !== 0) this.weightedCount--;
    for (let j = (i + SLOT) & wrap; ; j = (j + SLOT) & wrap) {
      if (slots[j + HEAD] === 0) break;
      const home = (slots[j + HASH]! & mask) * SLOT;
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      slots[i] = slots[j]!;
      slots[i + HEAD] = slots[j + HEAD]!;
      slots[i + WEIGHT] = slots[j + WEIGHT]!;
      slots[i + HASH] = slots[j + HASH]!;
      i = j;
    }
    slots[i] = 0;
    slots[i + HEAD] = 0;
    slots[i + WEIGHT] = 0;
    slots[i + HASH] = 0;
    this.counts[s]!--;
    this.count--;
  }

  private growShard(s: number): void {
    const old = this.shards[s]!;
    const slots = new Float64Array(old.length * 2);
    const mask = slots.length / SLOT - 1;
    const wrap = mask * SLOT + SLOT - 1;
    for (let o = 0; o < old.length; o += SLOT) {
      if (old[o + HEAD] === 0) continue;
      let i = (old[o + HASH]! & mask) * SLOT;
      while (slots[i + HEAD] !== 0) i = (i + SLOT) & wrap;
      slots[i] = old[o]!;
      slots[i + HEAD] = old[o + HEAD]!;
      slots[i + WEIGHT] = old[o + WEIGHT]!;
      slots[i + HASH] = old[o + HASH]!;
    }
    this.shards[s] = slots;
    this.masks[s] = mask;
    this.limits[s] = limitOf(mask + 1);
  }
}

/** Weight adds `deferWeightsAt` keeps at most before it applies them. */
const PENDING_MAX = 32;
const NO_PLACES = new Int32Array(0);

/** Two empty slots, shared by every shard before its first key (its limit, 0, makes `add` grow it first). */
const EMPTY = new Float64Array(2 * SLOT);

/** Keys a shard of `slots` slots holds at most: five eighths of them (see the module comment). */
function limitOf(slots: number): number {
  return (slots * 5) >>> 3;
}
