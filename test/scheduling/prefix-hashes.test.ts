import { describe, expect, test } from "bun:test";
import { hashPrefix, keyOf, truncateHashes } from "../../src/scheduling/prefix/hashes.ts";
import { murmur3Words } from "../../src/scheduling/prefix/murmur3.ts";
import { prompt } from "./helpers.ts";

const opts = { model: "llama", blockChars: 64, maxBlocks: 256 };

function le64(hi: number, lo: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setUint32(0, lo, true);
  new DataView(b.buffer).setUint32(4, hi, true);
  return b;
}

/** H: MurmurHash3_x86_128's first 64 bits as [hi, lo], over a fresh aligned copy of the bytes. */
function h64(input: string | Uint8Array): [number, number] {
  const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input;
  const copy = new Uint8Array((bytes.length + 3) & ~3);
  copy.set(bytes);
  const out = new Uint32Array(4);
  murmur3Words(copy, new Uint32Array(copy.buffer), bytes.length, 0, out, 0, true);
  return [out[1]!, out[0]!];
}

/** The reference formula, written the slow obvious way. */
function reference(text: string, model: string, blockChars: number, n: number): [number, number][] {
  const out: [number, number][] = [];
  let [hi, lo] = h64(model);
  for (let i = 0; i < n; i++) {
    const block = new TextEncoder().encode(text.slice(i * blockChars, (i + 1) * blockChars));
    const buf = new Uint8Array(block.length + 8);
    buf.set(block);
    buf.set(le64(hi, lo), block.length);
    [hi, lo] = h64(buf);
    out.push([hi, lo]);
  }
  return out;
}

describe("chained prefix hashes", () => {
  test.each([
    { case: "shorter than a block", chars: 63, maxBlocks: 256, count: 0 },
    { case: "exactly one block", chars: 64, maxBlocks: 256, count: 1 },
    { case: "partial last block ignored", chars: 64 * 3 + 10, maxBlocks: 256, count: 3 },
    { case: "capped at maxBlocks", chars: 64 * 300, maxBlocks: 256, count: 256 },
    { case: "small cap", chars: 64 * 10, maxBlocks: 4, count: 4 },
  ])("$case: $count blocks", ({ chars, maxBlocks, count }) => {
    const h = hashPrefix(prompt(1, chars), { ...opts, maxBlocks });
    expect(h.count).toBe(count);
    expect(h.keys.length).toBe(count);
    expect(h.words.length).toBe(count * 2);
  });

  test.each([
    { case: "ASCII", text: prompt(2, 64 * 5) },
    { case: "non-ASCII (UTF-8 path)", text: "héllo wörld ✓ 日本語のテキスト ".repeat(20) },
    { case: "surrogate pairs split by a block edge", text: "😀".repeat(100) },
  ])("h_i = H(utf8(block_i) ++ le64(h_{i-1})), h_-1 = H(model): $case", ({ text }) => {
    const h = hashPrefix(text, opts);
    const want = reference(text, opts.model, 64, h.count);
    expect(h.count).toBeGreaterThan(0);
    for (let i = 0; i < h.count; i++) {
      expect([h.words[2 * i], h.words[2 * i + 1]]).toEqual(want[i]!);
      expect(h.keys[i]).toBe(keyOf(want[i]![0], want[i]![1]));
      expect(Number.isSafeInteger(h.keys[i])).toBe(true);
    }
  });

  test.each([48, 52, 56, 60, 63, 64, 68, 72])(
    "ASCII blocks hashed straight from the string match the reference, mixed with UTF-8 ones (%i characters a block)",
    (blockChars) => {
      // ASCII blocks, a block with one accented letter, ASCII again, a control character and DEL.
      const text = `${prompt(3, blockChars * 4)}é${prompt(4, blockChars * 3)}\u0001\u007f${prompt(5, blockChars * 2)}`;
      const h = hashPrefix([text.slice(0, 100), text.slice(100)], { model: "m", blockChars, maxBlocks: 256 });
      const want = reference(text, "m", blockChars, h.count);
      expect(h.count).toBe(Math.floor(text.length / blockChars));
      for (let i = 0; i < h.count; i++) expect([h.words[2 * i], h.words[2 * i + 1]]).toEqual(want[i]!);
    },
  );

  test.each([16, 32, 64, 128])(
    "an ASCII window encoded whole (parts cut anywhere, empty parts, control characters) hashes as the reference (%i characters a block)",
    (blockChars) => {
      const text = `${prompt(6, blockChars * 5 + 7)}\u0000\u0001\u007f${prompt(7, blockChars * 9)}`;
      const cuts = [0, 1, 17, 17, blockChars * 2 + 3, blockChars * 6, text.length];
      const parts = cuts.slice(1).map((end, i) => text.slice(cuts[i], end));
      for (const maxBlocks of [1, 3, 256]) {
        const h = hashPrefix(parts, { model: "m", blockChars, maxBlocks });
        const want = reference(text, "m", blockChars, h.count);
        expect(h.count).toBe(Math.min(maxBlocks, Math.floor(text.length / blockChars)));
        for (let i = 0; i < h.count; i++) expect([h.words[2 * i], h.words[2 * i + 1]]).toEqual(want[i]!);
      }
      // Non-ASCII past the window does not matter; inside it, the long way gives the same digests.
      const after = hashPrefix([...parts, "日本語"], { model: "m", blockChars, maxBlocks: 3 });
      expect([...after.words]).toEqual([
        ...hashPrefix(parts, { model: "m", blockChars, maxBlocks: 3 }).words,
      ]);
      const inside = `${text.slice(0, blockChars + 5)}é${text.slice(blockChars + 5)}`;
      const h = hashPrefix(inside, { model: "m", blockChars, maxBlocks: 256 });
      const want = reference(inside, "m", blockChars, h.count);
      for (let i = 0; i < h.count; i++) expect([h.words[2 * i], h.words[2 * i + 1]]).toEqual(want[i]!);
    },
  );

  test("a prompt's hashes are a prefix of its continuation's hashes", () => {
    const base = prompt(3, 64 * 4);
    const a = hashPrefix(base, opts);
    const b = hashPrefix(base + prompt(4, 64 * 4), opts);
    expect(b.keys.slice(0, 4)).toEqual([...a.keys]);
    expect(b.keys[4]).not.toBe(a.keys[3]);
  });

  test("the model seeds the chain: same text, other model, no shared block", () => {
    const text = prompt(5, 64 * 4);
    const a = new Set(hashPrefix(text, opts).keys);
    for (const k of hashPrefix(text, { ...opts, model: "other" }).keys) expect(a.has(k)).toBe(false);
  });

  test("a change in block 0 changes every later hash", () => {
    const text = prompt(6, 64 * 4);
    const a = hashPrefix(text, opts).keys;
    const b = hashPrefix(`X${text.slice(1)}`, opts).keys;
    for (const [i, k] of a.entries()) expect(b[i]).not.toBe(k);
  });

  test("truncateHashes keeps the first n blocks", () => {
    const h = hashPrefix(prompt(7, 64 * 8), opts);
    const t = truncateHashes(h, 3);
    expect(t.count).toBe(3);
    expect(t.keys).toEqual(h.keys.slice(0, 3));
    expect(Array.from(t.words)).toEqual(Array.from(h.words.subarray(0, 6)));
    expect(truncateHashes(h, 100)).toBe(h);
  });
});
