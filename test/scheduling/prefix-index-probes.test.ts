import { describe, expect, test } from "bun:test";
import { PrefixIndex } from "../../src/scheduling/prefix/prefix-index.ts";

/**
 * What a prompt the index has never seen costs in key-table lookups (each one a likely
 * cache miss in a full index): the decision reads its block 0 only, and its record looks
 * each key up once (the prompt statistics' weights added while the slot is in hand), then
 * each evicted key once.
 */

const chain = (base: number, n: number) => Array.from({ length: n }, (_, i) => base + i);

function fullIndex(): PrefixIndex {
  const index = new PrefixIndex();
  for (let k = 0; k < 8; k++) {
    index.recordLater("a", chain(1000 * k, 256), 1024, true);
    index.settle();
  }
  return index;
}

describe("key lookups for a new prompt", () => {
  test("the decision's match and distinctive block read block 0 alone", () => {
    const index = fullIndex();
    const keys = chain(1_000_000, 256);
    const before = index.keyProbes;
    expect(index.matchLengths(keys).size).toBe(0);
    expect(index.prompts.distinctive(keys)).toBe(0);
    expect(index.keyProbes - before).toBeLessThanOrEqual(2);
  });

  test("its record looks each key up once, each evicted key once, weights included", () => {
    const index = fullIndex();
    const keys = chain(1_000_000, 256);
    const before = index.keyProbes;
    index.recordLater("a", keys, 1024, true);
    index.settle();
    // 256 inserted + 256 evicted (1,024 capacity, 2,048 recorded: the LRU was full).
    expect(index.keyProbes - before).toBeLessThanOrEqual(2 * 256);
    expect(index.stats()).toMatchObject({ entries: 1024, size: 1024 });
    // (That the weights it adds are prompts.record's: prefix-index-model.test.ts.)
  });

  test("a match of a new prompt keeps the last match: nothing copied, the matched prompt still answered from it", () => {
    const index = fullIndex();
    const held = chain(7000, 256);
    const first = index.matchLengths(held);
    expect(first.get("a")).toBe(256);
    expect(index.matchLengths(chain(2_000_000, 256)).size).toBe(0);
    expect(index.matchLengths(held)).toBe(first);
  });

  test("a prompt that shares its first blocks only warms about what it matches, not all its blocks", () => {
    const index = fullIndex();
    const shared = [...chain(7000, 20), ...chain(3_000_000, 236)]; // 20 blocks held, 236 new
    const before = index.keysWarmed;
    expect(index.matchLengths(shared).get("a")).toBe(20);
    expect(index.keysWarmed - before).toBeLessThanOrEqual(48);
    const whole = index.keysWarmed;
    expect(index.matchLengths(chain(6000, 256)).get("a")).toBe(256);
    expect(index.keysWarmed - whole).toBe(255);
  });
});
