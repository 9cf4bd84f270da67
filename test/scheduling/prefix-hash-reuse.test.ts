import { describe, expect, test } from "bun:test";
import { hashPrefix, hashWork } from "../../src/scheduling/prefix/hashes.ts";
import { referenceChain } from "../helpers/prefix-chain.ts";

/**
 * hashPrefix reuses the leading blocks the last ASCII window shared with this one: every
 * sequence of prompts must still give exactly the chain's hashes, computed here the slow
 * obvious way with no state.
 */

function expectChain(text: string | string[], model: string, blockChars = 64, maxBlocks = 256) {
  const joined = typeof text === "string" ? text : text.join("");
  const h = hashPrefix(text, { model, blockChars, maxBlocks });
  expect([...h.words]).toEqual(referenceChain(joined, model, blockChars, maxBlocks));
  expect(h.keys.length).toBe(h.count);
}

/** Deterministic ASCII text (a small LCG: no Math.random, the failing case reproduces). */
function text(seed: number, chars: number): string {
  let x = seed >>> 0 || 1;
  let s = "";
  while (s.length < chars) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    s += String.fromCharCode(32 + (x >>> 26));
  }
  return s;
}

describe("hashPrefix after other prompts (leading blocks reused from the last window)", () => {
  const system = text(1, 64 * 10);

  test("the same prompt twice, then a longer and a shorter one sharing its start", () => {
    const a = system + text(2, 64 * 40);
    expectChain(a, "m");
    expectChain(a, "m");
    expectChain(`${a}${text(3, 64 * 300)}`, "m");
    expectChain(a.slice(0, 64 * 5 + 7), "m");
    expectChain(a, "m");
  });

  test("a prompt that differs in one character of block 0, mid-window, or the last block", () => {
    const base = system + text(4, 64 * 246);
    expectChain(base, "m");
    for (const at of [0, 63, 64, 64 * 100 + 17, 64 * 256 - 1]) {
      const changed = `${base.slice(0, at)}${base[at] === "a" ? "b" : "a"}${base.slice(at + 1)}`;
      expectChain(changed, "m");
      expectChain(base, "m");
    }
  });

  test("the same text under another model or block size shares nothing", () => {
    const t = system + text(5, 64 * 20);
    expectChain(t, "m");
    expectChain(t, "other");
    expectChain(t, "m", 128);
    expectChain(t, "m", 64);
    expectChain(t, "m", 32);
  });

  test("parts, a non-ASCII prompt in between, and a window larger than the first buffer", () => {
    const t = system + text(6, 64 * 30);
    expectChain([t.slice(0, 100), t.slice(100)], "m");
    expectChain(`${t.slice(0, 64 * 3)}é${t.slice(64 * 3)}`, "m");
    expectChain(t, "m");
    const big = system + text(7, 64 * 600);
    expectChain(big, "m", 128, 400);
    expectChain(big, "m", 128, 400);
    expectChain(`${big.slice(0, 64 * 500)}x${big.slice(64 * 500 + 1)}`, "m", 128, 400);
    expectChain(t, "m");
  });

  test("200 prompts drawn from a few shared starts agree with the reference", () => {
    const starts = [system, text(8, 64 * 3), text(9, 64 * 50)];
    let x = 7;
    for (let i = 0; i < 200; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const tail = text(x % 5, (x >>> 8) % (64 * 60));
      expectChain(starts[x % 3]! + tail, x % 7 === 0 ? "n" : "m");
    }
  });

  test("a caller's hashes are its own: a later prompt does not change them", () => {
    const a = system + text(10, 64 * 20);
    const h = hashPrefix(a, { model: "m", blockChars: 64, maxBlocks: 256 });
    const words = [...h.words];
    const keys = [...h.keys];
    hashPrefix(system + text(11, 64 * 20), { model: "m", blockChars: 64, maxBlocks: 256 });
    hashPrefix(a, { model: "m", blockChars: 64, maxBlocks: 256 });
    expect([...h.words]).toEqual(words);
    expect([...h.keys]).toEqual(keys);
  });
});

describe("what a repeated start costs", () => {
  test("a prompt hashed again hashes no block; one sharing 10 blocks hashes only the rest", () => {
    const opts = { model: "m", blockChars: 64, maxBlocks: 256 };
    const system = text(20, 64 * 10);
    hashPrefix(system + text(21, 64 * 30), opts);
    const before = { ...hashWork };
    hashPrefix(system + text(21, 64 * 30), opts);
    expect(hashWork.blocks - before.blocks).toBe(0);
    expect(hashWork.reused - before.reused).toBe(40);
    hashPrefix(system + text(22, 64 * 30), opts);
    expect(hashWork.blocks - before.blocks).toBe(30);
    expect(hashWork.reused - before.reused).toBe(50);
  });

  test("the same text in other strings gets the same (read-only) hashes object, no new arrays", () => {
    const opts = { model: "m", blockChars: 64, maxBlocks: 256 };
    const t = text(30, 64 * 40);
    const h = hashPrefix([t.slice(0, 100), t.slice(100)], opts);
    expect(hashPrefix([`${t.slice(0, 50)}`.concat(t.slice(50, 100)), t.slice(100)], opts)).toBe(h);
    expect(hashPrefix([t], opts)).not.toBe(h); // other parts: hashed (from the window), equal values
    expect([...hashPrefix([t], opts).words]).toEqual([...h.words]);
  });
});
