import { murmur3Words } from "../../src/scheduling/prefix/murmur3.ts";

/** H of some bytes as `[hi, lo]`: the first 64 bits of MurmurHash3_x86_128, seed 0. */
export function h64(bytes: Uint8Array): [number, number] {
  const copy = new Uint8Array((bytes.length + 3) & ~3);
  copy.set(bytes);
  const out = new Uint32Array(4);
  murmur3Words(copy, new Uint32Array(copy.buffer), bytes.length, 0, out, 0, true);
  return [out[1]!, out[0]!];
}

/**
 * A prompt's chained block hashes the slow obvious way, with no state (REFERENCE
 * "Approximate prefix index"), as `[hi0, lo0, hi1, lo1, ...]`: what `hashPrefix` must give.
 */
export function referenceChain(text: string, model: string, blockChars: number, maxBlocks: number): number[] {
  const enc = new TextEncoder();
  const out: number[] = [];
  let [hi, lo] = h64(enc.encode(model));
  const n = Math.min(Math.floor(text.length / blockChars), maxBlocks);
  for (let i = 0; i < n; i++) {
    const block = enc.encode(text.slice(i * blockChars, (i + 1) * blockChars));
    const buf = new Uint8Array(block.length + 8);
    buf.set(block);
    const v = new DataView(buf.buffer);
    v.setUint32(block.length, lo, true);
    v.setUint32(block.length + 4, hi, true);
    [hi, lo] = h64(buf);
    out.push(hi, lo);
  }
  return out;
}
