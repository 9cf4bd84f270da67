import { describe, expect, test } from "bun:test";
import { blockHashes, countTokens, PrefixCache } from "../../src/simulator/prefix-cache.ts";

const block = (ch: string) => ch.repeat(16 * 4); // one full block of 16 tokens

describe("blockHashes", () => {
  test("hashes full blocks only", () => {
    expect(blockHashes("", { model: "m", blockSize: 16 })).toHaveLength(0);
    expect(blockHashes(block("a").slice(1), { model: "m", blockSize: 16 })).toHaveLength(0);
    expect(blockHashes(block("a") + block("b") + "tail", { model: "m", blockSize: 16 })).toHaveLength(2);
  });

  test("chains: a block's hash depends on everything before it", () => {
    const ab = blockHashes(block("a") + block("b"), { model: "m", blockSize: 16 });
    const cb = blockHashes(block("c") + block("b"), { model: "m", blockSize: 16 });
    expect(ab[1]).not.toBe(cb[1]);
    const abx = blockHashes(block("a") + block("b") + block("x"), { model: "m", blockSize: 16 });
    expect(abx.slice(0, 2)).toEqual(ab);
  });

  test("is seeded by the model name", () => {
    const m = blockHashes(block("a"), { model: "m", blockSize: 16 });
    const n = blockHashes(block("a"), { model: "n", blockSize: 16 });
    expect(m[0]).not.toBe(n[0]);
  });
});

test.each([
  ["", 1],
  ["abc", 1],
  ["abcd", 1],
  ["abcde", 2],
  ["x".repeat(400), 100],
])("countTokens(%p) = %p", (text, tokens) => {
  expect(countTokens(text)).toBe(tokens);
});

describe("PrefixCache", () => {
  test("matches leading blocks only", () => {
    const cache = new PrefixCache(10);
    cache.insert([1, 2, 3]);
    expect(cache.match([1, 2, 3, 4])).toBe(3);
    expect(cache.match([1, 9, 3])).toBe(1);
    expect(cache.match([4, 2])).toBe(0);
  });

  test("is bounded and evicts the least recently used", () => {
    const cache = new PrefixCache(4);
    cache.insert([1, 2]);
    cache.insert([3, 4]);
    cache.insert([1]); // touch 1: now 2 is the oldest
    cache.insert([5]);
    expect(cache.size).toBe(4);
    expect(cache.has(2)).toBe(false);
    expect(cache.has(1)).toBe(true);
    cache.insert([6, 7, 8, 9, 10]);
    expect(cache.size).toBe(4);
  });

  test("evicts the tail of a prefix before its head", () => {
    const cache = new PrefixCache(3);
    cache.insert([1, 2, 3]);
    cache.insert([9]);
    expect(cache.has(3)).toBe(false);
    expect(cache.match([1, 2, 3])).toBe(2);
  });

  test("capacity 0 stores nothing", () => {
    const cache = new PrefixCache(0);
    cache.insert([1]);
    expect(cache.match([1])).toBe(0);
  });
});
