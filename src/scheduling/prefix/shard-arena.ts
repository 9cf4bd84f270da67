/**
 * Where the prefix index's key-table shards live: power-of-two Float64Array views carved
 * out of a few large buffers (a buddy allocator), instead of one ArrayBuffer per shard.
 *
 * Why: a full index holds 8,192 shards that doubled one at a time while requests ran, each
 * until now its own ArrayBuffer: a malloc'd backing store of 128 B - 32 KiB, fresh memory
 * at every doubling (page faults, 10-30 µs each on the benchmark VM), the old one freed
 * into the C heap between the requests' own buffers, and one more ArrayBuffer for the
 * runtime to track. Here a doubling shard mostly takes a block another shard gave back
 * (memory already touched), and a full index is 16 buffers (4 endpoints) or 132 (64), not
 * 8,192 (docs/scheduling.md §5, eighth pass: the record of a new prompt 87-90 % of its
 * time before on Bun, 96-98 % on Node).
 *
 * Memory: a block freed by a growing shard is merged with its free buddy (the other half of
 * the block twice its size) up to the whole buffer, and reused by the next shard needing
 * that size, so the buffers hold at most about twice the live shards' bytes (a buddy
 * allocator's bound), and in practice little more than them (shards grow in step).
 */

/** Doubles per buffer (2^17 doubles = 1 MiB); larger blocks get a buffer of their own. */
const BUFFER_BITS = 17;
const BUFFER = 1 << BUFFER_BITS;
/** The first buffer's log2 doubles (64 KiB); each next one twice the last, up to BUFFER. */
const FIRST_BITS = 13;

export class ShardArena {
  private readonly buffers: Float64Array<ArrayBuffer>[] = [];
  private readonly bufferIds = new Map<ArrayBuffer, number>();
  /** log2 of each buffer's doubles: the first ones are smaller (an index of a few keys takes 64 KiB, not 1 MiB). */
  private readonly bufferBits: number[] = [];
  /** Free blocks by size class (log2 of doubles, up to a whole buffer): global offsets, buffer << BUFFER_BITS | offset. */
  private readonly free: Set<number>[] = Array.from({ length: BUFFER_BITS + 1 }, () => new Set<number>());
  /** Doubles in blocks handed out and not given back. */
  private live = 0;

  /** Bytes of the buffers the arena holds. */
  get bytes(): number {
    let doubles = 0;
    for (const b of this.buffers) doubles += b.length;
    return doubles * 8;
  }

  /** Bytes in blocks handed out and not given back. */
  get liveBytes(): number {
    return this.live * 8;
  }

  /** A zeroed view of `doubles` doubles (a power of two). */
  alloc(doubles: number): Float64Array<ArrayBuffer> {
    if (!(doubles >= 1) || (doubles & (doubles - 1)) !== 0)
      throw new RangeError(`ShardArena.alloc: ${doubles} is not a power of two`);
    if (doubles >= BUFFER) return new Float64Array(doubles);
    const k = log2(doubles);
    let at = this.take(k);
    if (at < 0) {
      // Split the smallest larger free block, or a new buffer: keep the low half at each
      // split, the high halves go free.
      let j = k + 1;
      while (j <= BUFFER_BITS && this.free[j]!.size === 0) j++;
      if (j <= BUFFER_BITS) at = this.take(j);
      else {
        j = Math.max(k, Math.min(BUFFER_BITS, FIRST_BITS + this.buffers.length));
        at = this.buffers.length << BUFFER_BITS;
        const buf = new Float64Array(1 << j);
        this.bufferIds.set(buf.buffer, this.buffers.length);
        this.buffers.push(buf);
        this.bufferBits.push(j);
      }
      for (let s = j - 1; s >= k; s--) this.free[s]!.add(at + (1 << s));
    }
    this.live += doubles;
    const off = at & (BUFFER - 1);
    const view = this.buffers[at >>> BUFFER_BITS]!.subarray(off, off + doubles);
    view.fill(0);
    return view;
  }

  /** Gives back a view `alloc` returned (the caller does not use it again). */
  release(view: Float64Array<ArrayBuffer>): void {
    const buffer = this.bufferIds.get(view.buffer);
    if (buffer === undefined) return; // a block of its own (or not the arena's): the collector takes it
    this.live -= view.length;
    let k = log2(view.length);
    let at = (buffer << BUFFER_BITS) | (view.byteOffset / 8);
    // Merge with the free buddy (the other half of the block twice the size) while there is one.
    const top = this.bufferBits[buffer]!;
    while (k < top && this.free[k]!.delete(at ^ (1 << k))) {
      at &= ~(1 << k);
      k++;
    }
    this.free[k]!.add(at);
  }

  private take(k: number): number {
    const set = this.free[k]!;
    if (set.size === 0) return -1;
    const at = set.values().next().value as number;
    set.delete(at);
    return at;
  }
}

function log2(n: number): number {
  return 31 - Math.clz32(n);
}
