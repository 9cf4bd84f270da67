/**
 * The prompt statistics' weight adds the key table defers (key-records.ts `deferWeightsAt`;
 * issue 19, fifteenth pass). A repeated prompt's record adds the same prompt's weight to its
 * 256 key slots request after request; kept here, those slots' weights are read and written
 * once a batch instead of once a request. The table applies them (`applyTo`) before anything
 * reads or changes a weight, or moves or places a slot, so no caller sees them pending.
 *
 * The adds are kept in the order made, all for one set of places (`shardAt[j]`, `slotAt[j]`
 * from `KeyRecords.locate`: a slot's offset in its shard, -1 for an absent key), and applied
 * in that order to each slot: w1, then w2, ..., the sums the same to the bit as adding them
 * one call at a time. A slot placed twice (at two positions) got each call's add at both
 * positions in turn, so then they are replayed call by call.
 */

/** Adds kept at most before the table applies them. */
export const PENDING_MAX = 32;
const NO_PLACES = new Int32Array(0);

export class DeferredWeights {
  /** Adds kept, not yet applied. */
  size = 0;
  /** The adds, in the order made (`ws[0..size)`), each to every weight the places hold. */
  private readonly ws = new Float64Array(PENDING_MAX);
  private shardAt: Int32Array = NO_PLACES;
  private slotAt: Int32Array = NO_PLACES;
  /** Places used: the first `keys` of `shardAt` / `slotAt`. */
  private keys = 0;
  /** Each placed slot's weight before the adds (`applyTo`). */
  private was = new Float64Array(256);

  /** Whether an add to these places can join the kept ones: none kept, or the same places with room left. */
  fits(shardAt: Int32Array, slotAt: Int32Array, keys: number): boolean {
    return (
      this.size === 0 ||
      (this.size < PENDING_MAX && shardAt === this.shardAt && slotAt === this.slotAt && keys === this.keys)
    );
  }

  /** Keeps `w` (> 0) for the first `keys` places, when `fits` said yes (apply the kept adds first otherwise); returns `size`. */
  keep(shardAt: Int32Array, slotAt: Int32Array, keys: number, w: number): number {
    this.shardAt = shardAt;
    this.slotAt = slotAt;
    this.keys = keys;
    this.ws[this.size++] = w;
    return this.size;
  }

  /**
   * Adds the kept adds to the weights at offset `weight` of the placed slots of `shards`, in
   * the order made, and forgets them. Returns how many slots weighed 0 before (the table's
   * count of weighted keys grows by that much).
   */
  applyTo(shards: readonly Float64Array[], weight: number): number {
    const n = this.size;
    this.size = 0;
    const { ws, shardAt, slotAt, keys } = this;
    // Each slot once: its weight put aside and the slot marked (NaN, which no weight is), so
    // a second place of the same slot shows.
    if (this.was.length < keys) this.was = new Float64Array(keys);
    const was = this.was;
    let j = 0;
    for (; j < keys; j++) {
      const i = slotAt[j]!;
      if (i < 0) continue;
      const slots = shards[shardAt[j]!]!;
      const v = slots[i + weight]!;
      if (Number.isNaN(v)) break;
      was[j] = v;
      slots[i + weight] = Number.NaN;
    }
    if (j < keys) {
      for (let k = 0; k < j; k++) if (slotAt[k]! >= 0) shards[shardAt[k]!]![slotAt[k]! + weight] = was[k]!;
      return this.replay(shards, weight, n);
    }
    let weighed = 0;
    for (j = 0; j < keys; j++) {
      const i = slotAt[j]!;
      if (i < 0) continue;
      let v = was[j]!;
      if (v === 0) weighed++;
      for (let c = 0; c < n; c++) v += ws[c]!;
      shards[shardAt[j]!]![i + weight] = v;
    }
    return weighed;
  }

  /**
   * The first `n` adds made one call at a time, each to every place in turn (as
   * `KeyRecords.addWeightsAt` makes them): a slot placed twice gets each call's add twice.
   * Returns how many slots weighed 0 before.
   */
  private replay(shards: readonly Float64Array[], weight: number, n: number): number {
    const { ws, shardAt, slotAt, keys } = this;
    let weighed = 0;
    for (let c = 0; c < n; c++) {
      const w = ws[c]!;
      if (!(w > 0)) continue;
      for (let j = 0; j < keys; j++) {
        const i = slotAt[j]!;
        if (i < 0) continue;
        const slots = shards[shardAt[j]!]!;
        const old = slots[i + weight]!;
        if (old === 0) weighed++;
        slots[i + weight] = old + w;
      }
    }
    return weighed;
  }
}
