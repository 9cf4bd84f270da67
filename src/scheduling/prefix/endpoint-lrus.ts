/**
 * The prefix index's recency lists, one per endpoint id: doubly linked through the entries'
 * own `LRU_PREV` / `LRU_NEXT` fields in the slab (no allocation per entry), head = oldest,
 * with each list's head, tail and length in typed columns indexed by endpoint id.
 */

import { grownInt32 } from "./key-table.ts";
import { keptKeys } from "./prefix-memos.ts";
import { type EntrySlab, NONE } from "./prefix-storage.ts";

/** An entry's place in its endpoint's list (fields of the slab; prefix-index.ts names the rest). */
export const LRU_PREV = 2;
export const LRU_NEXT = 3;

export class EndpointLrus {
  /** Oldest entry of each endpoint, or NONE. */
  head = new Int32Array(8).fill(NONE);
  /** Newest entry of each endpoint, or NONE. */
  tail = new Int32Array(8).fill(NONE);
  /** Entries in each endpoint's list. */
  size = new Int32Array(8);
  /** Bumped by every change of any list: a `newestAre` answer holds while this is unchanged. */
  private changes = 0;
  /**
   * Per endpoint id: the keys `newestAre` last found newest (a copy, and the array it was
   * made from) and `changes` then.
   */
  private readonly newest: ({ at: number; given: readonly number[]; keys: readonly number[] } | undefined)[] =
    [];

  constructor(private readonly ent: EntrySlab) {}

  /** An empty list for endpoint id `ep` (new or reused), the columns grown to hold it. */
  reset(ep: number): void {
    if (ep >= this.head.length) {
      this.head = grownInt32(this.head, ep + 1, NONE);
      this.tail = grownInt32(this.tail, ep + 1, NONE);
      this.size = grownInt32(this.size, ep + 1);
    }
    this.head[ep] = NONE;
    this.tail[ep] = NONE;
    this.size[ep] = 0;
    this.changes++;
  }

  /** Appends entry `e` as the newest of endpoint `ep`'s list. */
  push(ep: number, e: number): void {
    const ent = this.ent;
    const tail = this.tail[ep]!;
    ent.set(e, LRU_PREV, tail);
    ent.set(e, LRU_NEXT, NONE);
    if (tail === NONE) this.head[ep] = e;
    else ent.set(tail, LRU_NEXT, e);
    this.tail[ep] = e;
    this.size[ep]!++;
    this.changes++;
  }

  /**
   * `push` for an entry whose own links the caller writes (`EntrySlab.init`: previous =
   * the returned old newest, next = NONE): links it behind the newest.
   */
  pushNew(ep: number, e: number): number {
    const tail = this.tail[ep]!;
    if (tail === NONE) this.head[ep] = e;
    else this.ent.set(tail, LRU_NEXT, e);
    this.tail[ep] = e;
    this.size[ep]!++;
    this.changes++;
    return tail;
  }

  /** Takes entry `e` out of endpoint `ep`'s list. */
  unlink(ep: number, e: number): void {
    const ent = this.ent;
    const prev = ent.field(e, LRU_PREV);
    const next = ent.field(e, LRU_NEXT);
    if (prev === NONE) this.head[ep] = next;
    else ent.set(prev, LRU_NEXT, next);
    if (next === NONE) this.tail[ep] = prev;
    else ent.set(next, LRU_PREV, prev);
    this.size[ep]!--;
    this.changes++;
  }

  /**
   * Whether endpoint `ep`'s newest entries are `keys` in the order a record leaves them
   * (block 0 newest, then block 1...): what recording `keys` again would change nothing of
   * (the prefix index's repeated record). One read per block along the list, against a
   * table probe, a holder walk and four links per block for the record itself. The same
   * keys again while no list changed (a prompt repeated, on any endpoints) compare with the
   * last answer's copy, in one array, instead of chasing the list's links again.
   */
  newestAre(ep: number, keys: readonly number[]): boolean {
    const last = this.newest[ep];
    if (last !== undefined && last.at === this.changes && keptKeys(keys, last.given, last.keys)) return true;
    if (this.size[ep]! < keys.length) return false;
    const ent = this.ent;
    let e = this.tail[ep]!;
    for (let i = 0; i < keys.length; i++) {
      if (e === NONE || ent.key(e) !== keys[i]) return false;
      e = ent.field(e, LRU_PREV);
    }
    // Kept by copy: the caller's array may change after the call.
    if (last !== undefined && keptKeys(keys, last.given, last.keys)) {
      last.at = this.changes;
      last.given = keys;
    } else this.newest[ep] = { at: this.changes, given: keys, keys: keys.slice() };
    return true;
  }

  /** Cuts endpoint `ep`'s `n` oldest entries off at once; `rest` is the entry after them (NONE: all). */
  dropOldest(ep: number, n: number, rest: number): void {
    this.head[ep] = rest;
    if (rest === NONE) this.tail[ep] = NONE;
    else this.ent.set(rest, LRU_PREV, NONE);
    this.size[ep]! -= n;
    this.changes++;
  }
}
