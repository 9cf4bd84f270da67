/**
 * The prefix index's holders (prefix-index.ts): which endpoint ids hold which block keys,
 * and the work of recording a pick into them. Block keys sit in a `KeyRecords` table (the
 * first entry holding each key, its prompt-statistics weight and its hash in the key's
 * slot); one 32-byte entry per (key, endpoint) pair in an `EntrySlab`, on its endpoint's
 * LRU (endpoint-lrus.ts) and its key's holder list. Endpoint names, deferred picks, the
 * match and the statistics' views stay in the index; this keeps what a record and an
 * eviction touch, by endpoint id.
 */

import { EndpointLrus, LRU_NEXT } from "./endpoint-lrus.ts";
import { KeyRecords } from "./key-records.ts";
import { EntrySlab, NONE } from "./prefix-storage.ts";

/**
 * An entry's fields, side by side in the slab (half a cache line per entry, not six lines);
 * field 0 chains free entries and, while the entry is live, holds its key's hash
 * (`keyHash`: an eviction finds the key's slot without hashing it), 2 and 3 are its place in
 * its endpoint's LRU (endpoint-lrus.ts).
 */
const KEY_HASH = 0;
export const EP = 1;
const HOLD_PREV = 4;
export const HOLD_NEXT = 5;

export class HolderStore {
  /** block key -> first entry holding it and prompt-statistics weight, in the key's table slot. */
  readonly keys = new KeyRecords();
  /** entry id -> endpoint id, LRU neighbours, holder-list neighbours, block key. */
  readonly ent = new EntrySlab();
  /** endpoint id -> oldest entry, newest entry, entries. */
  readonly lrus = new EndpointLrus(this.ent);
  /** Bumped whenever a key gains or loses a holder or an endpoint leaves (an LRU's order is not a holder). */
  holdersVersion = 0;
  /** Live entries: (key, endpoint) pairs. */
  entryCount = 0;
  /** Records that found their prompt already the endpoint's newest and relinked nothing. */
  repeated = 0;
  /** What the warm-up reads summed to (kept so that they happen). */
  warmth = 0;
  /** The entries an eviction drops and their keys' hashes (scratch for `evictOver`). */
  private oldest = new Int32Array(256);
  private oldestHashes = new Int32Array(256);
  /** A record's keys' hashes (scratch for `record`). */
  private hashes = new Int32Array(256);

  /** Field `f` of entry `e`. */
  at(e: number, f: number): number {
    return this.ent.field(e, f);
  }

  /**
   * Records that endpoint id `ep` now holds every block of `keys` (non-empty; `capacity` >
   * 0), adding `w` (> 0; 0: none) to each key's prompt-statistics weight. Keys are touched
   * back to front, so block 0 is the most recent and a prefix loses its tail before its
   * head (as vLLM evicts). Then evicts the endpoint's oldest keys down to `capacity`.
   * Returns false, having added no weight, when `keys` were already the endpoint's newest
   * (a repeated prompt: the LRU is as the record would leave it).
   */
  record(ep: number, keys: readonly number[], capacity: number, w: number): boolean {
    if (this.lrus.newestAre(ep, keys)) {
      // The loop below would unlink and append each entry to the same places; only a
      // capacity lowered since can still evict.
      this.repeated++;
      this.evictOver(ep, capacity);
      return false;
    }
    this.holdersVersion++;
    const table = this.keys;
    if (this.hashes.length < keys.length)
      this.hashes = new Int32Array(Math.max(keys.length, 2 * this.hashes.length));
    const hashes = this.hashes;
    // Each key hashed once, here: the pass below and, later, its entry's eviction reuse it.
    this.warmth += table.hashAndWarm(keys, hashes, 0, keys.length);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      const h = hashes[i]!;
      // One probe per key: its slot when present, else where it goes.
      let at = table.findHashed(key, h);
      if (at >= 0) {
        const head = table.headAt(table.foundShard, at);
        const held = this.heldBy(head, ep);
        if (held !== NONE) {
          this.lrus.unlink(ep, held);
          this.lrus.push(ep, held);
        } else {
          const e = this.newEntry(ep, key, head, h);
          this.ent.set(head, HOLD_PREV, e);
          table.setHeadAt(table.foundShard, at, e);
        }
      } else at = table.addAt(key, this.newEntry(ep, key, NONE, h), at, h);
      if (w > 0) table.addWeightAt(table.foundShard, at, w);
    }
    this.evictOver(ep, capacity);
    return true;
  }

  /**
   * Evicts endpoint `ep`'s oldest entries down to `capacity`, oldest first, in one pass:
   * their ids and key hashes read in one walk along the LRU (mostly the order they were
   * allocated in), their key slots brought into cache together (`KeyRecords.warmHashed`), each
   * dropped from its key's holders, and the LRU cut once behind the last of them.
   */
  evictOver(ep: number, capacity: number): void {
    const over = this.lrus.size[ep]! - capacity;
    if (over <= 0) return;
    if (over > this.oldest.length) {
      this.oldest = new Int32Array(Math.max(over, 2 * this.oldest.length));
      this.oldestHashes = new Int32Array(this.oldest.length);
    }
    const ids = this.oldest;
    const hashes = this.oldestHashes;
    let e = this.lrus.head[ep]!;
    for (let k = 0; k < over; k++) {
      ids[k] = e;
      hashes[k] = this.at(e, KEY_HASH);
      e = this.at(e, LRU_NEXT);
    }
    if (over > 1) this.warmth += this.keys.warmHashed(hashes, 0, over);
    for (let k = 0; k < over; k++) this.release(ids[k]!);
    this.lrus.dropOldest(ep, over, e);
  }

  /** Drops every entry of endpoint id `ep` (the endpoint left) and empties its LRU. */
  dropAll(ep: number): void {
    for (let e = this.lrus.head[ep]!; e !== NONE; ) {
      const next = this.at(e, LRU_NEXT);
      this.release(e);
      e = next;
    }
    this.lrus.reset(ep);
    this.holdersVersion++;
  }

  /** A new entry of endpoint `ep` for `key` (whose `keyHash` is `h`), ahead of holder `next`, appended to the LRU. */
  private newEntry(ep: number, key: number, next: number, h: number): number {
    const e = this.ent.alloc();
    const prev = this.lrus.pushNew(ep, e);
    // Fields: KEY_HASH, EP, LRU_PREV, LRU_NEXT, HOLD_PREV, HOLD_NEXT.
    this.ent.init(e, h, ep, prev, NONE, NONE, next, key);
    this.entryCount++;
    return e;
  }

  /** The entry of endpoint `ep` among the holders starting at entry `head`, or NONE. */
  private heldBy(head: number, ep: number): number {
    for (let e = head; e !== NONE; e = this.at(e, HOLD_NEXT)) if (this.at(e, EP) === ep) return e;
    return NONE;
  }

  /**
   * Drops entry `e` (already out of its LRU, or its whole LRU is being dropped) from its
   * key's holders; a key with no holder left leaves the index and the prompt statistics.
   */
  private release(e: number): void {
    this.holdersVersion++;
    this.entryCount--;
    const prev = this.at(e, HOLD_PREV);
    const next = this.at(e, HOLD_NEXT);
    if (prev === NONE) this.keys.setHeadHashed(this.ent.key(e), this.at(e, KEY_HASH), next);
    else this.ent.set(prev, HOLD_NEXT, next);
    if (next !== NONE) this.ent.set(next, HOLD_PREV, prev);
    this.ent.release(e);
  }
}
