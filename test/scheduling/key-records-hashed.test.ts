import { describe, expect, test } from "bun:test";
import { seededRandom } from "../../src/clock.ts";
import { KeyRecords, keyHash } from "../../src/scheduling/prefix/key-records.ts";
import { PrefixIndex } from "../../src/scheduling/prefix/prefix-index.ts";

/**
 * The key table's `*Hashed` calls (a record hashes each key once; an eviction reads the
 * key's hash from its entry) and the hash each slot keeps for the backward shift and the
 * shards' doubling: the same answers as the calls that hash the key themselves.
 */
describe("key records by hash", () => {
  test("-0 and 0 are one key with one hash", () => {
    expect(keyHash(-0)).toBe(keyHash(0));
    const table = new KeyRecords();
    const absent = table.findHashed(-0, keyHash(-0));
    expect(absent).toBeLessThan(0);
    table.addAt(-0, 7, absent, keyHash(-0));
    expect(table.head(0)).toBe(7);
    expect(table.findHashed(0, keyHash(0))).toBeGreaterThanOrEqual(0);
  });

  test("hashed and plain calls mixed, through doublings and shifts, agree with a Map", () => {
    const r = seededRandom(19);
    const table = new KeyRecords();
    const ref = new Map<number, number>();
    const hashes = new Int32Array(64);
    for (let step = 0; step < 40_000; step++) {
      // Keys that share their low 32 bits or their high ones: long probe runs to shift.
      const key = r() < 0.5 ? Math.floor(r() * 3000) : Math.floor(r() * 2 ** 12) * 2 ** 32;
      const h = keyHash(key);
      const x = r();
      if (x < 0.5) {
        const at = table.findHashed(key, h);
        if (at < 0) {
          table.addAt(key, step, at, h);
          ref.set(key, step);
        } else {
          table.setHeadHashed(key, h, step);
          ref.set(key, step);
        }
      } else if (x < 0.9) {
        table.setHeadHashed(key, h, -1);
        ref.delete(key);
      } else {
        table.setHead(key, -1);
        ref.delete(key);
      }
      if (step % 997 === 0) {
        expect(table.size).toBe(ref.size);
        for (const [k, head] of ref) expect(table.head(k)).toBe(head);
        const keys = [...ref.keys()].slice(0, 64);
        table.hashAndWarm(keys, hashes, 0, keys.length);
        for (let j = 0; j < keys.length; j++) expect(hashes[j]).toBe(keyHash(keys[j]!));
      }
    }
  });

  test("an index's evictions find their keys by the entry's hash: a full LRU churns without a stale key", () => {
    const index = new PrefixIndex();
    for (let round = 0; round < 40; round++) {
      const keys = Array.from({ length: 64 }, (_, i) => round * 1000 + i);
      index.record(round % 2 === 0 ? "a" : "b", keys, 100);
    }
    // Each endpoint keeps its last 100 keys: its newest prompt whole and the first 36 blocks
    // of the one before (a prompt's tail is its oldest part); every key evicted left the table.
    const prompt = (round: number) => Array.from({ length: 64 }, (_, i) => round * 1000 + i);
    expect(index.stats()).toMatchObject({ entries: 200, size: 200 });
    expect(index.match(prompt(39)).get("b")).toBe(64);
    expect(index.match(prompt(37)).get("b")).toBe(36);
    expect(index.match(prompt(35)).size).toBe(0);
  });
});
