import { describe, expect, test } from "bun:test";
import { murmur3Words } from "../../src/scheduling/prefix/murmur3.ts";

/** The full 128-bit digest as h1..h4, over an aligned copy. */
function murmur128(text: string, seed: number): number[] {
  const bytes = new TextEncoder().encode(text);
  const copy = new Uint8Array((bytes.length + 3) & ~3);
  copy.set(bytes);
  const out = new Uint32Array(4);
  murmur3Words(copy, new Uint32Array(copy.buffer), bytes.length, seed, out, 0, true);
  return [...out];
}
const hex = (words: number[]) => words.map((w) => w.toString(16).padStart(8, "0")).join("");

describe("MurmurHash3_x86_128", () => {
  test("published vectors (SMHasher reference values)", () => {
    expect(murmur128("", 0)).toEqual([0, 0, 0, 0]);
    expect(murmur128("abcde", 42)).toEqual([1480429215, 166782523, 3736068775, 3736068775]);
    expect(hex(murmur128("Hello", 0))).toBe("2360ae465e6336c6ad45b3f4ad45b3f4");
  });

  test("every tail length (0-15 bytes past the last block) and block count is hashed, and differs", () => {
    const seen = new Set<string>();
    const text = "The quick brown fox jumps over the lazy dog, 0123456789";
    for (let n = 0; n <= text.length; n++) seen.add(hex(murmur128(text.slice(0, n), 0)));
    expect(seen.size).toBe(text.length + 1);
  });

  test("the 64-bit form is the digest's first 8 bytes as a little-endian number: [h2, h1]", () => {
    const bytes = new TextEncoder().encode("prefix block".padEnd(72, "."));
    const out = new Uint32Array(2);
    murmur3Words(bytes, new Uint32Array(bytes.buffer), bytes.length, 0, out);
    const full = murmur128("prefix block".padEnd(72, "."), 0);
    expect([...out]).toEqual([full[1]!, full[0]!]);
  });
});
