import { describe, expect, test } from "bun:test";
import { hashPrefix } from "../../src/scheduling/prefix/hashes.ts";
import { murmur3WordBlock, murmur3WordPair } from "../../src/scheduling/prefix/murmur3.ts";
import { referenceChain } from "../helpers/prefix-chain.ts";

/**
 * Two chained blocks hashed in one loop (murmur3WordPair, issue 19 seventh pass) must give
 * exactly what two calls of murmur3WordBlock give, and hashPrefix (which now hashes an ASCII
 * window two blocks a call, the odd one alone, from any block its reuse starts at) the
 * reference chain. Inputs come from a small LCG: a failing case reproduces.
 */

function lcg(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x;
  };
}

describe("murmur3WordPair", () => {
  test("equals two murmur3WordBlock calls, the second chained on the first, for random words", () => {
    const next = lcg(19);
    for (let round = 0; round < 300; round++) {
      const chars = 16 * (1 + (next() % 16)); // 16..256 bytes a block
      const q0 = 4 * (next() % 8); // a block may start anywhere word-aligned
      const words = new Uint32Array(q0 + (chars >>> 1) + 4);
      for (let i = 0; i < words.length; i++) words[i] = next();
      const lo = next();
      const hi = next();
      const one = new Uint32Array(6);
      murmur3WordBlock(words, q0, chars, lo, hi, one, 1);
      murmur3WordBlock(words, q0 + (chars >>> 2), chars, one[2]!, one[1]!, one, 3);
      const pair = new Uint32Array(6);
      murmur3WordPair(words, q0, chars, lo, hi, pair, 1);
      expect([...pair]).toEqual([...one]);
    }
  });
});

function ascii(next: () => number, chars: number): string {
  let s = "";
  while (s.length < chars) s += String.fromCharCode(32 + (next() >>> 26));
  return s;
}

describe("hashPrefix over an ASCII window, two blocks a call", () => {
  test("odd and even block counts, and reuse that leaves an odd or even first block to hash", () => {
    const next = lcg(7);
    const base = ascii(next, 64 * 40);
    for (let blocks = 1; blocks <= 9; blocks++) {
      for (const changedBlock of [0, 1, 2, 3, blocks - 1]) {
        // The last window is `base`; this one differs from it in one character of
        // `changedBlock`, so the blocks before it are reused and hashing starts there.
        const at = Math.min(changedBlock, blocks - 1) * 64 + 5;
        const text = `${base.slice(0, at)}${base[at] === "a" ? "b" : "a"}${base.slice(at + 1, blocks * 64 + 10)}`;
        hashPrefix(base, { model: "m", blockChars: 64, maxBlocks: 256 });
        const h = hashPrefix(text, { model: "m", blockChars: 64, maxBlocks: 256 });
        expect([...h.words]).toEqual(referenceChain(text, "m", 64, 256));
        expect(h.keys.length).toBe(h.count);
      }
    }
  });

  test("random prompts, block sizes and limits agree with the reference", () => {
    const next = lcg(2026);
    for (let round = 0; round < 120; round++) {
      const blockChars = 16 * (1 + (next() % 8));
      const maxBlocks = 1 + (next() % 300);
      const text = ascii(next, next() % (blockChars * 40));
      const h = hashPrefix(text, { model: round % 3 ? "m" : "lora-a", blockChars, maxBlocks });
      expect([...h.words]).toEqual(referenceChain(text, round % 3 ? "m" : "lora-a", blockChars, maxBlocks));
    }
  });
});
