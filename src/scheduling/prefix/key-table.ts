/**
 * An open-addressing hash table from numeric keys (prefix block keys) to small dense ids,
 * so that the prefix index and the prompt statistics keep per-key data in typed arrays
 * indexed by id instead of a Map entry (and, under V8, a boxed number) per key: millions
 * of keys then cost no allocation per insert and no GC scan.
 *
 * - Ids are 0 .. `idCapacity - 1`; a removed key's id is reused by a later insert, so
 *   callers size their parallel arrays with `idCapacity` (it only grows, by doubling).
 * - Linear probing over a power-of-two slot array kept at most half full; removal by
 *   backward shift (no tombstones), so lookups never slow down as keys come and go.
 * - Keys compare with `===` after mapping -0 to 0 (as a Map's SameValueZero; NaN is not a
 *   valid key). The slot is chosen from a mix of the key's 64 bits, so sequential keys
 *   (tests, synthetic fills) spread as well as hash outputs do.
 */

const scratch = new Float64Array(1);
const scratchWords = new Uint32Array(scratch.buffer);

/** A 32-bit mix of the double's bits (murmur3's finalizer over both words); the tables' slot hash. */
export function mix(key: number): number {
  scratch[0] = key;
  let h = Math.imul(scratchWords[0]! ^ Math.imul(scratchWords[1]!, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Shards of the table: 2^SHARD_BITS independent open-addressing tables (see `KeyTable`). */
const SHARD_BITS = 10;
const SHARDS = 1 << SHARD_BITS;
/** Ids per chunk of the id -> key storage (2^14 doubles = 128 KiB). */
const CHUNK_BITS = 14;
const CHUNK = 1 << CHUNK_BITS;

export class KeyTable {
  /**
   * 1024 shards picked by the hash's top bits, each its own linear-probing table whose
   * slot i is `[key, id + 1]` at 2i, 2i + 1 (id + 1 = 0: empty): a probe reads one cache
   * line, and a shard grows on its own, so doubling rehashes 1/1024 of the keys (tens of
   * µs at millions of keys) instead of stopping a decision for the whole table.
   */
  private readonly shards: Float64Array<ArrayBuffer>[] = [];
  private readonly masks = new Int32Array(SHARDS);
  private readonly counts = new Int32Array(SHARDS);
  /** id -> key, in chunks (no copy when ids grow); a freed id holds the next free id. */
  private readonly keys: Float64Array<ArrayBuffer>[] = [];
  private freeHead = -1;
  private next = 0;
  private count = 0;

  constructor() {
    for (let s = 0; s < SHARDS; s++) {
      this.shards.push(new Float64Array(16));
      this.masks[s] = 7;
    }
  }

  /** Keys in the table. */
  get size(): number {
    return this.count;
  }

  /** One more than the largest id ever handed out: the length parallel arrays need. */
  get idCapacity(): number {
    return this.next;
  }

  /** The key of a live id. */
  keyOf(id: number): number {
    return this.keys[id >>> CHUNK_BITS]![id & (CHUNK - 1)]!;
  }

  /** The id of `key`, or -1. */
  find(key: number): number {
    if (key === 0) key = 0;
    const h = mix(key);
    const slots = this.shards[h >>> (32 - SHARD_BITS)]!;
    const mask = this.masks[h >>> (32 - SHARD_BITS)]!;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const id1 = slots[2 * i + 1]!;
      if (id1 === 0) return -1;
      if (slots[2 * i] === key) return id1 - 1;
    }
  }

  /** The id of `key`, added when absent (check `idCapacity` for new ids). */
  insert(key: number): number {
    if (key === 0) key = 0;
    const h = mix(key);
    const s = h >>> (32 - SHARD_BITS);
    if ((this.counts[s]! + 1) * 2 > this.masks[s]! + 1) this.growShard(s);
    const slots = this.shards[s]!;
    const mask = this.masks[s]!;
    let i = h & mask;
    for (; ; i = (i + 1) & mask) {
      const id1 = slots[2 * i + 1]!;
      if (id1 === 0) break;
      if (slots[2 * i] === key) return id1 - 1;
    }
    let id = this.freeHead;
    if (id >= 0) this.freeHead = this.keyOf(id);
    else {
      id = this.next++;
      if (id >>> CHUNK_BITS >= this.keys.length) this.keys.push(new Float64Array(CHUNK));
    }
    this.keys[id >>> CHUNK_BITS]![id & (CHUNK - 1)] = key;
    slots[2 * i] = key;
    slots[2 * i + 1] = id + 1;
    this.counts[s]!++;
    this.count++;
    return id;
  }

  /** Removes the key with this id (a live id from `find` or `insert`); the id is reused later. */
  removeId(id: number): void {
    this.remove(this.keyOf(id), id);
  }

  /** `removeId` for a caller that has the key at hand (one memory read less). */
  remove(key: number, id: number): void {
    if (key === 0) key = 0;
    const h = mix(key);
    const s = h >>> (32 - SHARD_BITS);
    const slots = this.shards[s]!;
    const mask = this.masks[s]!;
    let i = h & mask;
    while (slots[2 * i + 1] !== id + 1) i = (i + 1) & mask;
    // Backward shift: pull later members of the probe run into the hole when their home
    // slot is not cyclically within (hole, their slot].
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const id1 = slots[2 * j + 1]!;
      if (id1 === 0) break;
      const home = mix(slots[2 * j]!) & mask;
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      slots[2 * i] = slots[2 * j]!;
      slots[2 * i + 1] = id1;
      i = j;
    }
    slots[2 * i] = 0;
    slots[2 * i + 1] = 0;
    this.keys[id >>> CHUNK_BITS]![id & (CHUNK - 1)] = this.freeHead;
    this.freeHead = id;
    this.counts[s]!--;
    this.count--;
  }

  private growShard(s: number): void {
    const old = this.shards[s]!;
    const slots = new Float64Array(old.length * 2);
    const mask = slots.length / 2 - 1;
    for (let o = 0; o < old.length; o += 2) {
      const id1 = old[o + 1]!;
      if (id1 === 0) continue;
      let i = mix(old[o]!) & mask;
      while (slots[2 * i + 1] !== 0) i = (i + 1) & mask;
      slots[2 * i] = old[o]!;
      slots[2 * i + 1] = id1;
    }
    this.shards[s] = slots;
    this.masks[s] = mask;
  }
}

/** A copy of `a` with room for at least `n` elements (doubling), the new part filled with `fill`. */
export function grownInt32(a: Int32Array<ArrayBuffer>, n: number, fill = 0): Int32Array<ArrayBuffer> {
  if (n <= a.length) return a;
  let size = Math.max(8, a.length);
  while (size < n) size *= 2;
  const out = new Int32Array(size);
  out.set(a);
  if (fill !== 0) out.fill(fill, a.length);
  return out;
}

/** As `grownInt32`, for a Float64Array (new part 0). */
export function grownFloat64(a: Float64Array<ArrayBuffer>, n: number): Float64Array<ArrayBuffer> {
  if (n <= a.length) return a;
  let size = Math.max(8, a.length);
  while (size < n) size *= 2;
  const out = new Float64Array(size);
  out.set(a);
  return out;
}
