/**
 * The prefix index's storage (prefix-index.ts): fixed-size records in typed-array chunks
 * that are added one at a time and never copied, so growth never stalls a record (one
 * whole-table copy stalled a record 356 ms at a million keys). Ids index the records:
 * `id >>> CHUNK_BITS` is the chunk, `id & CHUNK_MASK` the slot in it.
 */

export const NONE = -1;

/** Records per chunk. */
const CHUNK_BITS = 14;
const CHUNK = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK - 1;

/** Int32 fields per entry: six for the index, then the block key as a double over 6 and 7. */
const ENTRY = 8;
const KEY_F64 = 3;

/**
 * (key, endpoint) entries: six Int32 fields each (`field`/`set`), the block key as a double
 * beside them (so evicting reads no other cache line), freed entries reused first.
 */
export class EntrySlab {
  private readonly ints: Int32Array<ArrayBuffer>[] = [];
  /** The same chunks as Float64Arrays (the key field). */
  private readonly doubles: Float64Array<ArrayBuffer>[] = [];
  /** Freed entries, chained through field 0; `top` = first entry id never used. */
  private free = NONE;
  private top = 0;

  /** Entry slots allocated (live + free): the high-water mark. */
  get allocated(): number {
    return this.top;
  }

  field(e: number, f: number): number {
    return this.ints[e >>> CHUNK_BITS]![(e & CHUNK_MASK) * ENTRY + f]!;
  }

  set(e: number, f: number, v: number): void {
    this.ints[e >>> CHUNK_BITS]![(e & CHUNK_MASK) * ENTRY + f] = v;
  }

  key(e: number): number {
    return this.doubles[e >>> CHUNK_BITS]![(e & CHUNK_MASK) * (ENTRY / 2) + KEY_F64]!;
  }

  /**
   * Sets a new entry's six fields and key with one chunk lookup (`set` looks the chunk up
   * for each field): the index's record writes them for every block of a new prompt.
   */
  init(e: number, f0: number, f1: number, f2: number, f3: number, f4: number, f5: number, key: number): void {
    const ints = this.ints[e >>> CHUNK_BITS]!;
    const o = (e & CHUNK_MASK) * ENTRY;
    ints[o] = f0;
    ints[o + 1] = f1;
    ints[o + 2] = f2;
    ints[o + 3] = f3;
    ints[o + 4] = f4;
    ints[o + 5] = f5;
    this.doubles[e >>> CHUNK_BITS]![(o >> 1) + KEY_F64] = key;
  }

  /** A free entry's id (its fields hold whatever they held). */
  alloc(): number {
    if (this.free !== NONE) {
      const e = this.free;
      this.free = this.field(e, 0);
      return e;
    }
    const e = this.top++;
    if (e >>> CHUNK_BITS >= this.ints.length) {
      const chunk = new Int32Array(CHUNK * ENTRY);
      this.ints.push(chunk);
      this.doubles.push(new Float64Array(chunk.buffer));
    }
    return e;
  }

  /** Gives entry `e` back (read what you need of it first). */
  release(e: number): void {
    this.set(e, 0, this.free);
    this.free = e;
  }
}
