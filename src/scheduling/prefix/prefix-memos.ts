/**
 * What the prefix index remembers of its last calls so that the same prompt again costs
 * no second pass over its keys (prefix-index.ts). Each memo is valid while the index's
 * holders version is the one it was made at: a key gaining or losing a holder (which is
 * also when key slots move: a key comes or goes) or an endpoint leaving bumps it.
 */
import { isLastHashed } from "./hashes.ts";
import type { KeyRecords } from "./key-records.ts";
import { NO_MATCH, type PrefixLengths } from "./matched-lengths.ts";

/** Whether two key lists are the same keys in the same order. */
export function sameKeys(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Whether `keys` are the keys a memo kept: `kept`, its copy of the array `given` it was made
 * from. When `keys` is that very array and it is the one `hashPrefix` handed out last (which
 * nothing writes: PrefixHashes are read-only), it still holds `kept`: no compare. A repeated
 * prompt's match, its placement (twice) and its record's LRU memo each compared 256 keys
 * (issue 19, fifteenth pass). A caller's own array (which it may change after a call) is
 * compared as before.
 */
export function keptKeys(
  keys: readonly number[],
  given: readonly number[],
  kept: readonly number[],
): boolean {
  return (keys === given && isLastHashed(keys)) || sameKeys(keys, kept);
}

/**
 * The last match and the holders it was read from: the same keys again (the same prompt)
 * while no key has gained or lost a holder get the same answer (it is read-only), without
 * reading the holders of every block again.
 */
export class LastMatch {
  private holders = -1;
  /** The array the match was made for, and a copy of its keys (the caller's array may change after the call). */
  private given: readonly number[] = [];
  private keys: readonly number[] = [];
  private lengths: PrefixLengths = NO_MATCH;

  /** The match of `keys` made at holders version `holders`, or undefined. */
  get(keys: readonly number[], holders: number): PrefixLengths | undefined {
    return this.holders === holders && keptKeys(keys, this.given, this.keys) ? this.lengths : undefined;
  }

  set(keys: readonly number[], holders: number, lengths: PrefixLengths): void {
    this.holders = holders;
    this.given = keys;
    this.keys = keys.slice(); // the caller's array may change after the call
    this.lengths = lengths;
  }
}

/**
 * The slots of the last keys the prompt statistics read or wrote (`KeyRecords.locate`),
 * kept while no key came or went (which is when slots move): a decision reads a prompt's
 * weights and its record adds to them, and a repeated prompt does both again, so the keys
 * are probed once instead of two or four times.
 */
export class PlacedKeys {
  private holders = -1;
  /** The array last placed, and a copy of its keys. */
  private given: readonly number[] = [];
  private keys: readonly number[] = [];
  /** Shard and slot offset of each key (`KeyRecords.locate`), valid when `current`. */
  shards = new Int32Array(256);
  slots = new Int32Array(256);
  /**
   * A lower bound of the placed keys' weights (-Infinity: none known): the least of them
   * after the last batch add. Weights only grow while the placement is current, except when
   * cleared or divided, which set it back to -Infinity (`forgetFloor`); a statistics read
   * whose bar is at or below it finds no light block without reading the weights.
   */
  floor = Number.NEGATIVE_INFINITY;

  /** Whether `shards`/`slots` place `keys` at holders version `holders`. */
  current(keys: readonly number[], holders: number): boolean {
    return this.holders === holders && keptKeys(keys, this.given, this.keys);
  }

  /** Places `keys` in `table` (unless already placed at this version); read `shards`/`slots` after. */
  place(keys: readonly number[], holders: number, table: KeyRecords): this {
    if (this.current(keys, holders)) return this;
    if (this.slots.length < keys.length) {
      this.shards = new Int32Array(Math.max(keys.length, 2 * this.slots.length));
      this.slots = new Int32Array(this.shards.length);
    }
    table.locate(keys, this.shards, this.slots);
    this.floor = Number.NEGATIVE_INFINITY;
    this.holders = holders;
    this.given = keys;
    this.keys = keys.slice();
    return this;
  }

  /** A weight was cleared or divided: no lower bound is known any more. */
  forgetFloor(): void {
    this.floor = Number.NEGATIVE_INFINITY;
  }
}
