import { describe, expect, test } from "bun:test";
import { PromptStatistics } from "../../src/scheduling/prefix/distinctive.ts";
import { PrefixIndex } from "../../src/scheduling/prefix/prefix-index.ts";

/**
 * Recording a prompt an endpoint's LRU already ends with (the same prompt again) relinks
 * nothing; the LRU order, holders, evictions and counts must be those of a full record.
 */

const chain = (base: number, n: number) => Array.from({ length: n }, (_, i) => base + i);

/** Which of `keys` each endpoint still holds, read through matches of one key each. */
function held(index: PrefixIndex, keys: readonly number[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const k of keys)
    for (const [name] of index.match([k])) {
      out[name] ??= [];
      out[name].push(k);
    }
  return out;
}

describe("a prompt recorded again on the endpoint that holds it last", () => {
  test("nothing is relinked, and later evictions take the same keys as after a full record", () => {
    const a = chain(1000, 20);
    const b = chain(2000, 20);
    const fast = new PrefixIndex();
    fast.record("p", a, 60);
    fast.record("p", a, 60);
    fast.record("p", a, 60);
    expect(fast.repeatedRecords).toBe(2);
    // b, then a's first half again (a full record: moves a[0..9] to newest), then a whole.
    fast.record("p", b, 60);
    fast.record("p", a.slice(0, 10), 60);
    fast.record("p", a, 60);
    fast.record("p", a, 60);
    expect(fast.repeatedRecords).toBe(3);
    // 40 entries; 30 more evict the 30 oldest: b's blocks (a is newer, whole).
    fast.record("q", a, 60);
    fast.record("p", chain(3000, 30), 60);
    expect(held(fast, [...a, ...b])).toEqual({ p: [...a, ...b.slice(0, 10)], q: [...a] });
    expect(fast.stats()).toMatchObject({ entries: 60 + 20, size: 20 + 10 + 30 });
  });

  test("the same prompt on another endpoint, or a longer one, is a full record; its start is not", () => {
    const index = new PrefixIndex();
    const a = chain(1, 16);
    index.record("p", a);
    index.record("q", a);
    index.record("p", [...a, 99]);
    expect(index.repeatedRecords).toBe(0);
    index.record("p", a.slice(0, 8)); // blocks 0-7 are already p's newest, in order
    expect(index.repeatedRecords).toBe(1);
    index.record("p", a.slice(1, 8)); // block 0 is newer than them: a full record
    expect(index.repeatedRecords).toBe(1);
    expect(index.match(a)).toEqual(
      new Map([
        ["p", 16],
        ["q", 16],
      ]),
    );
  });

  test("a capacity lowered since the last record still evicts the oldest", () => {
    const index = new PrefixIndex();
    const a = chain(1, 16);
    index.record("p", a, 100);
    index.record("p", a, 10);
    expect(index.repeatedRecords).toBe(1);
    // Block 0 is the newest, block 15 the oldest: the 6 oldest went.
    expect(index.match(a)).toEqual(new Map([["p", 10]]));
    expect(index.stats().entries).toBe(10);
  });
});

describe("the same keys matched again", () => {
  test("answers from the last match until a key gains or loses a holder", () => {
    const index = new PrefixIndex();
    const a = chain(1, 8);
    index.record("p", a, 100);
    const first = index.matchLengths(a);
    expect(first.get("p")).toBe(8);
    expect(index.matchLengths([...a])).toBe(first); // same keys, nothing changed: the same answer
    index.record("p", a, 100); // a repeat relinks nothing and adds no holder
    expect(index.matchLengths(a)).toBe(first);
    index.record("q", a.slice(0, 3), 100);
    const second = index.matchLengths(a);
    expect(second).not.toBe(first);
    expect([second.get("p"), second.get("q")]).toEqual([8, 3]);
    index.record("p", chain(100, 95), 100); // evicts p's 3 oldest: blocks 7, 6, 5
    expect(index.matchLengths(a).get("p")).toBe(5);
    index.removeEndpoint("q");
    expect(index.matchLengths(a).get("q")).toBeUndefined();
  });

  test("a caller's keys array changed after a match is matched anew", () => {
    const index = new PrefixIndex();
    const keys = chain(1, 4);
    index.record("p", keys);
    expect(index.matchLengths(keys).get("p")).toBe(4);
    keys[0] = 999;
    expect(index.matchLengths(keys).get("p")).toBeUndefined();
  });
});

describe("prompt statistics read and written a prompt at a time", () => {
  test("the index's batched weights give the distinctive blocks of per-key weights", () => {
    const index = new PrefixIndex();
    const standalone = new PromptStatistics(0.5, 4096); // its own table, one key at a time
    const preamble = chain(1, 4);
    const seen = new Set<number>();
    for (let n = 0; n < 300; n++) {
      const group = n % 5;
      // Every third prompt repeats the one before (its slots are read from the last placement).
      const m = n % 3 === 2 ? n - 1 : n;
      const keys = [...preamble, ...chain(1000 * (group + 1), 3 + (m % 4)), ...chain(100_000 + m * 10, 2)];
      const j = index.prompts.distinctive(keys);
      expect(j).toBe(standalone.distinctive(keys));
      seen.add(j);
      index.record("p", keys, 1_000_000);
      index.prompts.record(keys);
      standalone.record(keys);
    }
    expect([...seen].sort((a, b) => a - b)).toEqual([0, 4]); // the first prompt, then the first block after the shared preamble
  });

  test("weights placed for a prompt follow its keys when other keys come and go in between", () => {
    const index = new PrefixIndex();
    const standalone = new PromptStatistics(0.5, 4096);
    const a = chain(1, 64);
    index.record("p", a, 1_000_000);
    for (let round = 0; round < 6; round++) {
      expect(index.prompts.distinctive(a)).toBe(standalone.distinctive(a));
      // 20,000 other keys arrive (shards double: slots move), then some leave (backward shifts).
      const others = chain(1_000_000 * (round + 1), 20_000);
      index.record("q", others, 1_000_000);
      index.removeEndpoint("q");
      index.prompts.record(a);
      standalone.record(a);
      expect(index.prompts.distinctive(a)).toBe(standalone.distinctive(a));
    }
    expect(index.prompts.size).toBe(64);
  });
});
