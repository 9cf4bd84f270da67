import { heapStats } from "bun:jsc";
import { expect, test } from "bun:test";
import { InFlight } from "../../src/endpoints/inflight.ts";
import { createContext } from "../../src/scheduling/framework/context.ts";
import { stateKey } from "../../src/scheduling/framework/interfaces.ts";
import { LoadTracker } from "../../src/scheduling/framework/load.ts";
import { context, fixedClock, request } from "./helpers.ts";

/**
 * Issue 19, sixth pass: a request context keeps plugin state for its first four keys in
 * fields (the default profile sets three a decision), past that in a Map: what a Map did,
 * without a Map per decision.
 */
test("plugin state: set, overwrite and read back any number of keys, each its own", () => {
  const ctx = context();
  const keys = Array.from({ length: 7 }, (_, i) => stateKey<number | undefined>(`k${i}`));
  for (const k of keys) expect(ctx.get(k)).toBeUndefined();
  for (const [i, k] of keys.entries()) ctx.set(k, i);
  for (const [i, k] of keys.entries()) expect(ctx.get(k)).toBe(i);
  // Overwrites stay in their slot; undefined is a value like any other (as Map.set).
  ctx.set(keys[1]!, 10);
  ctx.set(keys[5]!, 50);
  ctx.set(keys[2]!, undefined);
  expect(keys.map((k) => ctx.get(k))).toEqual([0, 10, undefined, 3, 4, 50, 6]);
  // Same names, different keys: never confused.
  expect(ctx.get(stateKey<number>("k0"))).toBeUndefined();
  // A second context shares nothing.
  expect(context().get(keys[0]!)).toBeUndefined();
});

test("up to four keys and one block size's hashes a decision make no Map", () => {
  const keys = Array.from({ length: 4 }, (_, i) => stateKey<number>(`s${i}`));
  const shared = {
    request: request(),
    clock: fixedClock(),
    inflight: new InFlight(),
    loads: new LoadTracker(),
  };
  const one = () => {
    const ctx = createContext(shared);
    for (const k of keys) ctx.set(k, 1);
    ctx.prefixHashes(64, 4);
    ctx.prefixHashes(64, 2);
    return ctx.get(keys[3]!);
  };
  for (let i = 0; i < 200; i++) one();
  Bun.gc(true);
  const before = heapStats().objectTypeCounts;
  for (let i = 0; i < 100; i++) one();
  const after = heapStats().objectTypeCounts;
  expect(((after["Map"] ?? 0) - (before["Map"] ?? 0)) / 100).toBe(0);
});

test("prompt hashes: one block size in fields, others in a Map, each the same as a fresh context's", () => {
  const req = request({ prompt: "The quick brown fox jumps over the lazy dog. ".repeat(20) });
  const fresh = (chars: number, blocks: number) => {
    const h = context({ request: req }).prefixHashes(chars, blocks);
    return Array.from(h.words.subarray(0, 2 * h.count));
  };
  const words = (h: { words: Uint32Array; count: number }) => Array.from(h.words.subarray(0, 2 * h.count));
  const ctx = context({ request: req });
  expect(words(ctx.prefixHashes(64, 4))).toEqual(fresh(64, 4));
  expect(words(ctx.prefixHashes(64, 2))).toEqual(fresh(64, 2));
  expect(words(ctx.prefixHashes(16, 3))).toEqual(fresh(16, 3));
  expect(words(ctx.prefixHashes(64, 8))).toEqual(fresh(64, 8));
  expect(words(ctx.prefixHashes(16, 5))).toEqual(fresh(16, 5));
  expect(words(ctx.prefixHashes(64, 3))).toEqual(fresh(64, 3));
  expect(words(ctx.prefixHashes(32, 1))).toEqual(fresh(32, 1));
});
