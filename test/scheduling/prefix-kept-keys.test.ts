import { describe, expect, test } from "bun:test";
import { hashPrefix, isLastHashed } from "../../src/scheduling/prefix/hashes.ts";
import { KeyRecords } from "../../src/scheduling/prefix/key-records.ts";
import { PrefixIndex } from "../../src/scheduling/prefix/prefix-index.ts";
import { keptKeys, LastMatch, PlacedKeys } from "../../src/scheduling/prefix/prefix-memos.ts";

/**
 * A repeated prompt's memos take the keys array `hashPrefix` handed out last for equal to
 * the array they were made from, without comparing its keys (prefix-memos.ts `keptKeys`,
 * fifteenth pass): nothing writes a PrefixHashes once made. The tests that the shortcut is
 * TAKEN change such an array in place on purpose (against that contract) and see the memo
 * answer anyway; the tests that it is taken ONLY for that array see a caller's own array,
 * or one hashPrefix no longer holds as its last, compared as before.
 */

const opts = { model: "m", blockChars: 64, maxBlocks: 256 };
const text = (seed: string) => `${seed} `.repeat(2000);
const chain = (base: number, n: number) => Array.from({ length: n }, (_, i) => base + i);

describe("keptKeys", () => {
  test("the last hashed array is taken for itself; others are compared", () => {
    const h = hashPrefix(text("alpha"), opts);
    expect(isLastHashed(h.keys)).toBe(true);
    const copy = h.keys.slice();
    // Identity with the last hashed array: equal without a compare (here a stale copy on purpose).
    expect(keptKeys(h.keys, h.keys, [1, 2, 3])).toBe(true);
    // A caller's own array, even the very one the memo kept: compared.
    expect(keptKeys(copy, copy, [1, 2, 3])).toBe(false);
    expect(keptKeys(copy, copy, h.keys)).toBe(true);
    // The same text again: the same array, still the last.
    expect(hashPrefix(text("alpha"), opts).keys).toBe(h.keys);
    expect(isLastHashed(h.keys)).toBe(true);
    // Another text: h's array is not the last any more, and is compared.
    hashPrefix(text("beta"), opts);
    expect(isLastHashed(h.keys)).toBe(false);
    expect(keptKeys(h.keys, h.keys, [1, 2, 3])).toBe(false);
    expect(keptKeys(h.keys, h.keys, copy)).toBe(true);
    expect(isLastHashed([])).toBe(false);
  });
});

describe("the memos of a repeated prompt", () => {
  test("the match memo answers the last hashed array without comparing it", () => {
    const memo = new LastMatch();
    const h = hashPrefix(text("gamma"), opts);
    const lengths = new Map([["p", 3]]) as never;
    memo.set(h.keys, 7, lengths);
    (h.keys as number[])[0] = -1; // against the contract: shows no compare is made
    expect(memo.get(h.keys, 7)).toBe(lengths);
    expect(memo.get(h.keys, 8)).toBeUndefined(); // another holders version still ends it
    // Once another text was hashed, the same (changed) array is compared: no answer.
    hashPrefix(text("delta"), opts);
    expect(memo.get(h.keys, 7)).toBeUndefined();
  });

  test("the placement memo holds for the last hashed array without comparing it", () => {
    const placed = new PlacedKeys();
    const h = hashPrefix(text("theta"), opts);
    placed.place(h.keys, 3, new KeyRecords());
    (h.keys as number[])[0] = -1; // against the contract: shows no compare is made
    expect(placed.current(h.keys, 3)).toBe(true);
    expect(placed.current(h.keys, 4)).toBe(false);
    hashPrefix(text("iota"), opts); // no longer the last: compared, and changed
    expect(placed.current(h.keys, 3)).toBe(false);
    const own = chain(1, 8);
    placed.place(own, 3, new KeyRecords());
    own[2] = 99;
    expect(placed.current(own, 3)).toBe(false);
  });

  test("a caller's own array changed in place is compared (match, record, statistics)", () => {
    const index = new PrefixIndex();
    const keys = chain(1, 8);
    index.record("p", keys, 100);
    const first = index.matchLengths(keys);
    expect(index.matchLengths(keys)).toBe(first);
    index.record("p", keys, 100);
    expect(index.repeatedRecords).toBe(1);
    keys[3] = 999;
    expect(index.matchLengths(keys)).not.toBe(first);
    index.record("p", keys, 100);
    expect(index.repeatedRecords).toBe(1);
    expect(index.match([...keys]).get("p")).toBe(8);
  });

  test("a repeated record and statistics of hashPrefix's keys: same answers as for a copy", () => {
    // Two indexes fed the same prompts, one with hashPrefix's arrays (the shortcut), one with
    // copies (compared): the same matches, records and distinctive blocks throughout.
    const a = new PrefixIndex();
    const b = new PrefixIndex();
    const prompts = ["one", "two", "one", "one", "three", "one", "two", "two"];
    for (const [i, p] of prompts.entries()) {
      const keys = hashPrefix(text(p), opts).keys;
      const copy = keys.slice();
      const ep = `e${i % 3}`;
      expect(a.prompts.distinctive(keys)).toBe(b.prompts.distinctive(copy));
      expect(a.match(keys)).toEqual(b.match(copy));
      a.record(ep, keys, 600);
      b.record(ep, copy, 600);
      a.prompts.record(keys);
      b.prompts.record(copy);
      a.record(ep, keys, 600); // a repeated record, on the memo
      b.record(ep, copy, 600);
      expect(a.repeatedRecords).toBe(b.repeatedRecords);
      expect(a.prompts.distinctive(keys)).toBe(b.prompts.distinctive(copy));
    }
  });

  test("the LRU memo takes the last hashed array for its keys (shown by changing it in place)", () => {
    const index = new PrefixIndex();
    const h = hashPrefix(text("epsilon"), opts);
    index.record("p", h.keys, 1000);
    index.record("p", h.keys, 1000);
    expect(index.repeatedRecords).toBe(1);
    const was = h.keys[0]!;
    (h.keys as number[])[0] = was + 1; // against the contract: a compare would see it
    index.record("p", h.keys, 1000);
    expect(index.repeatedRecords).toBe(2);
    (h.keys as number[])[0] = was;
    hashPrefix(text("zeta"), opts); // no longer the last: compared, and equal again
    index.record("p", h.keys, 1000);
    expect(index.repeatedRecords).toBe(3);
  });
});
