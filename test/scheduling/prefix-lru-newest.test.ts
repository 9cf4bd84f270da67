import { describe, expect, test } from "bun:test";
import { PrefixIndex } from "../../src/scheduling/prefix/prefix-index.ts";

/**
 * A repeated record's check that the endpoint's LRU already ends with its keys is answered
 * from the last such answer while no LRU changed (endpoint-lrus.ts `newestAre`, twelfth
 * pass): every change of any list, a changed keys array and an endpoint id reused must each
 * lead back to the full check, so the records are those of a full record every time.
 */

const chain = (base: number, n: number) => Array.from({ length: n }, (_, i) => base + i);

describe("a repeated record remembered from the last one", () => {
  test("another endpoint's record keeps it; this endpoint's reorder ends it", () => {
    const index = new PrefixIndex();
    const a = chain(1, 16);
    index.record("p", a, 100);
    index.record("p", a, 100);
    expect(index.repeatedRecords).toBe(1);
    index.record("q", chain(500, 8), 100); // lists changed, p's not
    index.record("p", a, 100);
    expect(index.repeatedRecords).toBe(2);
    index.record("p", a, 100);
    expect(index.repeatedRecords).toBe(3);
    // Block 5 becomes p's newest: a is no longer what p's LRU ends with.
    index.record("p", [a[5]!], 100);
    index.record("p", a, 100);
    expect(index.repeatedRecords).toBe(3);
    // The full record put block 0 newest again; p holds 16 keys, cut to 10 evicts 6 oldest
    // (blocks 15..10), which a record that skipped the relink would have got wrong (block 5
    // would still be newest and 15..11 plus 0 would go).
    index.record("p", a, 10);
    expect(index.repeatedRecords).toBe(4);
    expect(index.match(a)).toEqual(new Map([["p", 10]]));
  });

  test("an evicting record ends it", () => {
    const index = new PrefixIndex();
    const a = chain(1, 8);
    index.record("p", a, 8);
    index.record("p", a, 8);
    expect(index.repeatedRecords).toBe(1);
    index.record("p", chain(100, 4), 8); // evicts a's 4 oldest (blocks 7..4)
    index.record("p", a, 8);
    expect(index.repeatedRecords).toBe(1);
    expect(index.match(a)).toEqual(new Map([["p", 8]]));
  });

  test("the caller's array changed in place is checked anew", () => {
    const index = new PrefixIndex();
    const keys = chain(1, 8);
    index.record("p", keys, 100);
    index.record("p", keys, 100);
    expect(index.repeatedRecords).toBe(1);
    keys[3] = 999;
    index.record("p", keys, 100);
    expect(index.repeatedRecords).toBe(1);
    expect(index.match([...keys]).get("p")).toBe(8);
    index.record("p", keys, 100);
    expect(index.repeatedRecords).toBe(2);
  });

  test("an endpoint's id reused by a new endpoint is checked anew", () => {
    const index = new PrefixIndex();
    const a = chain(1, 8);
    index.record("p", a, 100);
    index.record("p", a, 100);
    expect(index.repeatedRecords).toBe(1);
    index.removeEndpoint("p");
    index.record("r", a, 100); // r takes p's id: an empty list, a full record
    expect(index.repeatedRecords).toBe(1);
    expect(index.match(a)).toEqual(new Map([["r", 8]]));
    expect(index.stats().entries).toBe(8);
  });
});
