import { describe, expect, test } from "bun:test";
import { seededRandom } from "../../src/clock.ts";
import { xxh64, xxh64Hex } from "../../src/scheduling/prefix/xxhash64.ts";

const bytes = (n: number, f: (i: number) => number) => Uint8Array.from({ length: n }, (_, i) => f(i));

describe("xxHash64 published vectors", () => {
  test.each([
    { input: "", seed: 0, hex: "ef46db3751d8e999" },
    { input: "a", seed: 0, hex: "d24ec4f1a98c6e5b" },
    { input: "abc", seed: 0, hex: "44bc2cf5ad770999" },
    // 39 bytes: the 32-byte stripe loop, merge rounds and the 8/4/1-byte tails.
    { input: "Nobody inspects the spammish repetition", seed: 0, hex: "fbcea83c8a378bf1" },
    { input: "The quick brown fox jumps over the lazy dog", seed: 0, hex: "0b242d361fda71bc" },
    { input: "abc", seed: 12345, hex: "01700e64f6f23509" },
    { input: "Nobody inspects the spammish repetition", seed: 1234, hex: "55e30cd248a5419f" },
    { input: "a".repeat(32), seed: 0, hex: "856e843298f99ad7" },
    { input: "b".repeat(64), seed: 0, hex: "ecbaf4bdf26b6349" },
  ])("XXH64($input, $seed) = $hex", ({ input, seed, hex }) => {
    expect(xxh64Hex(input, seed)).toBe(hex);
  });

  test("a byte view at an unaligned offset hashes like a copy", () => {
    const data = bytes(203, (i) => (i * 37 + 11) & 255);
    for (const off of [1, 2, 3]) {
      const view = data.subarray(off);
      expect(xxh64Hex(view)).toBe(xxh64Hex(view.slice()));
    }
  });

  test("agrees with Bun's native XXH64 on 2,000 random inputs (lengths 0..300, random seeds)", () => {
    const native = (globalThis as { Bun?: { hash: { xxHash64(d: Uint8Array, s: bigint): bigint } } }).Bun;
    if (native === undefined) return; // only Bun ships a native XXH64 to compare with
    const r = seededRandom(42);
    for (let i = 0; i < 2000; i++) {
      const data = bytes(Math.floor(r() * 300), () => Math.floor(r() * 256));
      const seed = Math.floor(r() * 2 ** 53);
      const want = native.hash.xxHash64(data, BigInt(seed)).toString(16).padStart(16, "0");
      expect(xxh64Hex(data, seed)).toBe(want);
    }
  });

  test("returns [hi, lo] words", () => {
    expect(Array.from(xxh64(""))).toEqual([0xef46db37, 0x51d8e999]);
  });
});
