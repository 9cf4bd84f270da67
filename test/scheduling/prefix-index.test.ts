import { describe, expect, test } from "bun:test";
import { PrefixIndex } from "../../src/scheduling/prefix/prefix-index.ts";

const chain = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

describe("prefix index: match", () => {
  test.each<{ case: string; recorded: [string, number[]][]; query: number[]; want: Record<string, number> }>([
    {
      case: "nothing recorded",
      recorded: [] as [string, number[]][],
      query: [1, 2, 3],
      want: {},
    },
    {
      case: "full match on one endpoint",
      recorded: [["a", [1, 2, 3]]] as [string, number[]][],
      query: [1, 2, 3],
      want: { a: 3 },
    },
    {
      case: "longest prefix per endpoint",
      recorded: [
        ["a", [1, 2, 3]],
        ["b", [1]],
      ] as [string, number[]][],
      query: [1, 2, 3, 4],
      want: { a: 3, b: 1 },
    },
    {
      case: "stops at the first block nobody has",
      recorded: [["a", [1, 2, 9, 4]]] as [string, number[]][],
      query: [1, 2, 3, 4],
      want: { a: 2 },
    },
    {
      case: "an endpoint with a gap stops counting at the gap",
      recorded: [
        ["a", [1, 3]],
        ["b", [1, 2, 3]],
      ] as [string, number[]][],
      query: [1, 2, 3],
      want: { a: 1, b: 3 },
    },
    {
      case: "block 0 missing: no match even if later blocks are held",
      recorded: [["a", [2, 3]]] as [string, number[]][],
      query: [1, 2, 3],
      want: {},
    },
  ])("$case", ({ recorded, query, want }) => {
    const index = new PrefixIndex();
    for (const [name, keys] of recorded) index.record(name, keys);
    expect(Object.fromEntries(index.match(query))).toEqual(want);
  });
});

describe("prefix index: bounded memory", () => {
  test.each([{ capacity: 1 }, { capacity: 100 }, { capacity: 1000 }])(
    "inserting 10x capacity keeps size <= capacity ($capacity)",
    ({ capacity }) => {
      const index = new PrefixIndex();
      for (let i = 0; i < 10; i++) index.record("a", chain(i * capacity, capacity), capacity);
      expect(index.size).toBeLessThanOrEqual(capacity);
      expect(index.stats().entries).toBeLessThanOrEqual(capacity);
    },
  );

  test("bounded per endpoint: two endpoints hold up to 2x capacity", () => {
    const index = new PrefixIndex();
    for (let i = 0; i < 50; i++) {
      index.record("a", chain(i * 100, 100), 300);
      index.record("b", chain(1_000_000 + i * 100, 100), 300);
    }
    expect(index.stats().entries).toBe(600);
    expect(index.size).toBe(600);
  });

  test("the most recent chain survives, and its head outlives its tail", () => {
    const index = new PrefixIndex();
    index.record("a", chain(0, 4), 6);
    index.record("a", chain(100, 4), 6); // 8 keys into 6 slots: evicts the oldest two
    expect(index.match(chain(100, 4)).get("a")).toBe(4);
    // the first chain lost its tail (inserted first, so least recent), not its head
    expect(index.match(chain(0, 4)).get("a")).toBe(2);
  });

  test("a touched chain is not evicted by newer ones", () => {
    const index = new PrefixIndex();
    index.record("a", [1, 2], 4);
    index.record("a", [3, 4], 4);
    index.record("a", [1, 2], 4); // touch
    index.record("a", [5, 6], 4);
    expect(index.match([1, 2]).get("a")).toBe(2);
    expect(index.match([3, 4]).get("a")).toBeUndefined();
  });

  test("removing an endpoint frees its entries and keeps others'", () => {
    const index = new PrefixIndex();
    index.record("a", [1, 2, 3]);
    index.record("b", [1, 2]);
    index.removeEndpoint("a");
    expect(Object.fromEntries(index.match([1, 2, 3]))).toEqual({ b: 2 });
    expect(index.size).toBe(2);
    index.removeEndpoint("b");
    expect(index.size).toBe(0);
    expect(index.stats()).toMatchObject({ entries: 0, endpoints: 0 });
  });

  test("retain drops every endpoint not listed", () => {
    const index = new PrefixIndex();
    index.record("a", [1]);
    index.record("b", [2]);
    index.record("c", [3]);
    index.retain(["b"]);
    expect(index.stats()).toMatchObject({ size: 1, entries: 1, endpoints: 1 });
    expect(index.match([2]).get("b")).toBe(1);
  });
});

describe("prefix index: hit ratio", () => {
  test("counts matched over total blocks of recorded picks", () => {
    const index = new PrefixIndex();
    expect(index.stats().hitRatio).toBe(0);
    index.recordHit(0, 4);
    index.recordHit(3, 4);
    index.recordHit(0, 0); // no blocks: not a lookup
    expect(index.stats()).toMatchObject({ lookups: 2, matchedBlocks: 3, totalBlocks: 8, hitRatio: 3 / 8 });
  });
});
