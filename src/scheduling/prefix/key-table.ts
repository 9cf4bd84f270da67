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

/** A 32-bit mix of the double's bits (murmur3's finalizer over both words). */
function mix(key: number): number {
  scratch[0] = key;
  let h = Math.imul(scratchWords[0]! ^ Math.imul(scratchWords[1]!, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

export class KeyTable {
  /** slot -> id + 1 (0 = empty). */
  private slots: Int32Array;
  private mask: number;
  /** id -> key, id -> mixed hash (for rehash and backward shift without re-mixing). */
  private keys: Float64Array;
  private hashes: Int32Array;
  /** Ids freed by `remove`, reused first; `next` is the first id never used. */
  private free: Int32Array;
  private freeCount = 0;
  private next = 0;
  private count = 0;

  constructor(initialIds = 64) {
    const ids = Math.max(8, 2 ** Math.ceil(Math.log2(initialIds)));
    this.slots = new Int32Array(ids * 2);
    this.mask = ids * 2 - 1;
    this.keys = new Float64Array(ids);
    this.hashes = new Int32Array(ids);
    this.free = new Int32Array(ids);
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
    return this.keys[id]!;
  }

  /** The id of `key`, or -1. */
  find(key: number): number {
    if (key === 0) key = 0;
    const { slots, keys, mask } = this;
    let i = mix(key) & mask;
    for (;;) {
      const s = slots[i]!;
      if (s === 0) return -1;
      if (keys[s - 1] === key) return s - 1;
      i = (i + 1) & mask;
    }
  }

  /** The id of `key`, added when absent (check `idCapacity` for new ids). */
  insert(key: number): number {
    if (key === 0) key = 0;
    const found = this.find(key);
    if (found >= 0) return found;
    if ((this.count + 1) * 2 > this.slots.length) this.growSlots();
    const id = this.freeCount > 0 ? this.free[--this.freeCount]! : this.next++;
    if (id >= this.keys.length) this.growIds();
    const h = mix(key);
    this.keys[id] = key;
    this.hashes[id] = h;
    this.place(id, h);
    this.count++;
    return id;
  }

  /** Removes the key with this id (a live id from `find` or `insert`); the id is reused later. */
  removeId(id: number): void {
    const { slots, hashes, mask } = this;
    let i = hashes[id]! & mask;
    while (slots[i] !== id + 1) i = (i + 1) & mask;
    // Backward shift: pull later members of the probe run into the hole when their home
    // slot is not cyclically within (hole, their slot].
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const s = slots[j]!;
      if (s === 0) break;
      const home = hashes[s - 1]! & mask;
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      slots[i] = s;
      i = j;
    }
    slots[i] = 0;
    this.free[this.freeCount++] = id;
    this.count--;
  }

  /** Calls `fn` with every live id (in slot order). */
  forEachId(fn: (id: number) => void): void {
    const { slots } = this;
    for (let i = 0; i < slots.length; i++) if (slots[i] !== 0) fn(slots[i]! - 1);
  }

  private place(id: number, h: number): void {
    const { slots, mask } = this;
    let i = h & mask;
    while (slots[i] !== 0) i = (i + 1) & mask;
    slots[i] = id + 1;
  }

  private growSlots(): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2);
    this.mask = this.slots.length - 1;
    for (let i = 0; i < old.length; i++) {
      const s = old[i]!;
      if (s !== 0) this.place(s - 1, this.hashes[s - 1]!);
    }
  }

  private growIds(): void {
    const n = this.keys.length * 2;
    const keys = new Float64Array(n);
    keys.set(this.keys);
    this.keys = keys;
    const hashes = new Int32Array(n);
    hashes.set(this.hashes);
    this.hashes = hashes;
    const free = new Int32Array(n);
    free.set(this.free);
    this.free = free;
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
