import { describe, expect, test } from "bun:test";
import { seededRandom } from "../../src/clock.ts";
import { KeyTable } from "../../src/scheduling/prefix/key-table.ts";
import { PrefixIndex } from "../../src/scheduling/prefix/prefix-index.ts";

/**
 * The typed-array prefix index against a reference written the obvious way (a Map LRU
 * per endpoint and a Set of holders per key, the index's documented semantics): random
 * records, removals and matches must give the same answers and counts.
 */
class ReferenceIndex {
  readonly holders = new Map<number, Set<string>>();
  readonly lrus = new Map<string, Map<number, true>>();

  record(endpoint: string, keys: readonly number[], capacity: number): void {
    if (keys.length === 0) return;
    const lru = this.lrus.get(endpoint) ?? new Map<number, true>();
    this.lrus.set(endpoint, lru);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      lru.delete(key);
      lru.set(key, true);
      const set = this.holders.get(key) ?? new Set();
      set.add(endpoint);
      this.holders.set(key, set);
    }
    while (lru.size > capacity) this.release(lru.keys().next().value as number, endpoint, lru);
  }

  removeEndpoint(endpoint: string): void {
    const lru = this.lrus.get(endpoint);
    if (!lru) return;
    for (const key of [...lru.keys()]) this.release(key, endpoint, lru);
    this.lrus.delete(endpoint);
  }

  match(keys: readonly number[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 0; i < keys.length; i++) {
      const set = this.holders.get(keys[i]!);
      if (!set) break;
      let extended = false;
      for (const name of set)
        if ((out[name] ?? 0) === i) {
          out[name] = i + 1;
          extended = true;
        }
      if (!extended) break;
    }
    return out;
  }

  get entries(): number {
    let n = 0;
    for (const lru of this.lrus.values()) n += lru.size;
    return n;
  }

  private release(key: number, endpoint: string, lru: Map<number, true>): void {
    lru.delete(key);
    const set = this.holders.get(key)!;
    set.delete(endpoint);
    if (set.size === 0) this.holders.delete(key);
  }
}

const sorted = (m: Map<string, number> | Record<string, number>) =>
  Object.fromEntries(Object.entries(m instanceof Map ? Object.fromEntries(m) : m).sort());

describe("prefix index layout: same answers as the Map-and-Set reference", () => {
  test.each([
    { endpoints: 3, capacity: 20, keySpace: 60 },
    { endpoints: 40, capacity: 50, keySpace: 400 },
    { endpoints: 100, capacity: 8, keySpace: 2000 }, // beyond 32 and 64 endpoints
  ])("random records, removals and matches ($endpoints endpoints, capacity $capacity)", (c) => {
    const r = seededRandom(c.endpoints);
    const index = new PrefixIndex();
    const ref = new ReferenceIndex();
    const name = () => `pod-${Math.floor(r() * c.endpoints)}`;
    // Chains that share heads (as prompts share system prompts), some with duplicate keys.
    const chain = () => {
      const head = Math.floor(r() * 8);
      const n = 1 + Math.floor(r() * 30);
      return Array.from({ length: n }, (_, i) => (i < 3 ? head * 10 + i : Math.floor(r() * c.keySpace)));
    };
    for (let step = 0; step < 4000; step++) {
      const x = r();
      if (x < 0.6) {
        const e = name();
        const keys = chain();
        index.record(e, keys, c.capacity);
        ref.record(e, keys, c.capacity);
      } else if (x < 0.62) {
        const e = name();
        index.removeEndpoint(e);
        ref.removeEndpoint(e);
      } else {
        const keys = chain();
        expect(sorted(index.match(keys))).toEqual(sorted(ref.match(keys)));
        const lengths = index.matchLengths(keys);
        for (let p = 0; p < c.endpoints; p++)
          expect(lengths.get(`pod-${p}`)).toBe(ref.match(keys)[`pod-${p}`]);
      }
      if (step % 97 === 0)
        expect(index.stats()).toMatchObject({
          size: ref.holders.size,
          entries: ref.entries,
          endpoints: ref.lrus.size,
        });
    }
  });
});

describe("prefix index layout: edge cases of the typed arrays", () => {
  test("entry slots stay bounded by capacity x endpoints over many evictions (freed slots are reused)", () => {
    const index = new PrefixIndex();
    for (let i = 0; i < 2000; i++) {
      index.record("a", [i * 3, i * 3 + 1, i * 3 + 2], 30);
      index.record("b", [1e9 + i], 30);
    }
    expect(index.stats()).toMatchObject({ entries: 60, size: 60 });
    // Growth overshoots by at most one batch of keys past the bound, never with the traffic.
    expect(index.allocatedEntries).toBeLessThanOrEqual(63);
  });

  test("a removed endpoint's id is reused and the new endpoint starts empty", () => {
    const index = new PrefixIndex();
    index.record("a", [1, 2, 3]);
    index.record("b", [1, 2]);
    index.removeEndpoint("a");
    index.record("c", [7]);
    expect(index.endpointIdOf("c")).toBe(0); // a's id
    expect(sorted(index.match([1, 2, 3]))).toEqual({ b: 2 });
    expect(sorted(index.match([7]))).toEqual({ c: 1 });
    expect(index.stats()).toMatchObject({ endpoints: 2, entries: 3, size: 3 });
  });

  test("a match taken before an endpoint left still answers by name after its id is reused", () => {
    const index = new PrefixIndex();
    for (let i = 0; i < 6; i++) index.record(`p${i}`, [1, 2]);
    const before = index.matchLengths([1, 2]);
    index.removeEndpoint("p0");
    index.record("new", [9]); // takes p0's id
    expect(before.get("p0")).toBe(2);
    expect(before.get("new")).toBeUndefined();
    expect(before.get("p5")).toBe(2);
    expect(before.size).toBe(6);
  });

  test("retain keeps only the listed endpoints, including endpoints known only by pending tokens", () => {
    const index = new PrefixIndex();
    for (let i = 0; i < 70; i++) index.record(`p${i}`, [i, 1000]);
    index.addPending("gone", 5);
    index.retain(["p3", "p69"]);
    expect(index.stats()).toMatchObject({ endpoints: 2, entries: 4, size: 3 });
    expect(index.pendingTokens("gone")).toBe(0);
    expect(sorted(index.match([1000]))).toEqual({ p3: 1, p69: 1 });
    expect(sorted(index.match([69, 1000]))).toEqual({ p69: 2 });
  });

  test("keys that differ only in high bits, 0 and -0, and unsafe-looking large keys stay distinct", () => {
    const index = new PrefixIndex();
    const keys = [0, 2 ** 32, 2 ** 33, 2 ** 52 + 1, 2 ** 53 - 1, 1, 4294967296 + 1];
    index.record("a", keys);
    expect(index.size).toBe(keys.length);
    expect(index.match(keys).get("a")).toBe(keys.length);
    expect(index.match([-0, 2 ** 32]).get("a")).toBe(2);
    expect(index.match([2 ** 34]).get("a")).toBeUndefined();
  });

  test("the prompt statistics weigh only keys the index holds, and lose a key with its last holder", () => {
    const index = new PrefixIndex();
    index.record("a", [1, 2, 3, 4], 2); // keeps 1, 2 (block 0 is the most recent)
    index.prompts.record([1, 2, 3, 4]);
    expect(index.prompts.size).toBe(2);
    index.record("b", [1], 2);
    index.record("a", [8, 9], 2); // a evicts 1 and 2; b still holds 1
    expect(index.prompts.size).toBe(1);
    index.prompts.record([1, 5]);
    index.prompts.record([1, 5]);
    // 1 was seen by all three prompts; 5 by none held: the distinctive block is 5's.
    expect(index.prompts.distinctive([1, 5])).toBe(1);
    index.removeEndpoint("b");
    expect(index.prompts.size).toBe(0);
  });
});

describe("key table", () => {
  test("insert, find and remove against a Map, through growth and backward-shift deletes", () => {
    const r = seededRandom(5);
    const table = new KeyTable();
    const ref = new Map<number, number>();
    let most = 0;
    for (let step = 0; step < 50_000; step++) {
      // Sequential-ish keys and hash-like keys mixed: clusters and collisions in the low bits.
      const key = r() < 0.5 ? Math.floor(r() * 3000) : Math.floor(r() * 2 ** 20) * 2 ** 32;
      if (r() < 0.55) {
        const id = table.insert(key);
        if (ref.has(key)) expect(id).toBe(ref.get(key)!);
        else ref.set(key, id);
        most = Math.max(most, ref.size);
        expect(table.keyOf(id)).toBe(key);
      } else {
        const id = table.find(key);
        expect(id).toBe(ref.get(key) ?? -1);
        if (id >= 0) {
          table.removeId(id);
          ref.delete(key);
        }
      }
    }
    expect(table.size).toBe(ref.size);
    for (const [key, id] of ref) expect(table.find(key)).toBe(id);
    // Ids are reused: the id space follows the most keys held at once, not the inserts.
    expect(table.idCapacity).toBe(most);
  });
});
