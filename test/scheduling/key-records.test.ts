import { describe, expect, test } from "bun:test";
import { seededRandom } from "../../src/clock.ts";
import { KeyRecords } from "../../src/scheduling/prefix/key-records.ts";

/**
 * The prefix index's key table with the per-key record (first holder, weight) in the
 * slot: checked against a Map through growth and backward-shift removals, with keys that
 * cluster in the low bits, collide in the high ones, and weights that must move with
 * their slots.
 */
describe("key records", () => {
  test("add, head, setHead, weights and removal against a Map", () => {
    const r = seededRandom(11);
    const table = new KeyRecords();
    const ref = new Map<number, { head: number; weight: number }>();
    for (let step = 0; step < 60_000; step++) {
      const key = r() < 0.5 ? Math.floor(r() * 4000) : Math.floor(r() * 2 ** 20) * 2 ** 32;
      const x = r();
      const known = ref.get(key);
      if (x < 0.45) {
        if (known === undefined) {
          const head = Math.floor(r() * 1e6);
          table.add(key, head);
          ref.set(key, { head, weight: 0 });
        } else {
          known.head = Math.floor(r() * 1e6);
          table.setHead(key, known.head);
        }
      } else if (x < 0.6) {
        table.addWeight(key, 1.5);
        if (known !== undefined) known.weight += 1.5;
      } else if (x < 0.65) {
        table.clearWeight(key);
        if (known !== undefined) known.weight = 0;
      } else {
        table.setHead(key, -1);
        ref.delete(key);
      }
      if (step % 1000 === 0) {
        expect(table.size).toBe(ref.size);
        expect(table.weighted).toBe([...ref.values()].filter((v) => v.weight > 0).length);
      }
    }
    for (const [key, v] of ref) {
      expect(table.head(key)).toBe(v.head);
      expect(table.weight(key)).toBe(v.weight);
    }
    expect(table.head(2 ** 51 + 7)).toBe(-1);
    expect(table.weight(2 ** 51 + 7)).toBe(0);
    table.divideWeights(2);
    for (const [key, v] of ref) expect(table.weight(key)).toBe(v.weight / 2);
  });

  test("0 and -0 are one key; a removed key's weight does not come back with it", () => {
    const table = new KeyRecords();
    table.add(0, 5);
    expect(table.head(-0)).toBe(5);
    table.addWeight(-0, 2);
    expect(table.weight(0)).toBe(2);
    table.setHead(0, -1);
    expect(table.size).toBe(0);
    expect(table.weighted).toBe(0);
    table.add(-0, 1);
    expect(table.weight(0)).toBe(0);
  });

  test("warm reads without changing anything", () => {
    const table = new KeyRecords();
    table.add(3, 9);
    expect(Number.isFinite(table.warm([3, 4, 5], 0, 3))).toBe(true);
    expect(table.size).toBe(1);
    expect(table.head(3)).toBe(9);
  });
});
