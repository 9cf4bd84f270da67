/**
 * MurmurHash3_x86_128 (Austin Appleby's SMHasher reference), of which the prefix index
 * keeps the first 64 bits. It is all 32-bit `Math.imul`, rotates and xors: no 64-bit
 * products to emulate, so in JavaScript it hashes a 72-byte prefix block about 4-5x
 * faster than XXH64 in 32-bit halves (xxhash64.ts), on every runtime (Bun, Node, Deno,
 * workerd) and with the same result everywhere, so replicas still agree.
 *
 * Input is read as little-endian 32-bit words from an aligned `Uint32Array` view of the
 * bytes (see `alignedWords` in xxhash64.ts), like `xxh64Words`.
 */

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * MurmurHash3_x86_128 of the first `len` bytes with a 32-bit seed. Writes the four
 * 32-bit words h1..h4 to `out[at..at+3]` when `full`, else only the first 64 bits of the
 * digest as `out[at]` = h2 (high half) and `out[at + 1]` = h1 (low half): the digest's
 * first 8 bytes read as a little-endian 64-bit number.
 */
export function murmur3Words(
  bytes: Uint8Array,
  words: Uint32Array,
  len: number,
  seed: number,
  out: Uint32Array,
  at = 0,
  full = false,
): void {
  let h1 = seed | 0;
  let h2 = h1;
  let h3 = h1;
  let h4 = h1;
  const blocks = len >>> 4;
  for (let b = 0; b < blocks; b++) {
    const q = b << 2;
    let k1 = words[q]!;
    let k2 = words[q + 1]!;
    let k3 = words[q + 2]!;
    let k4 = words[q + 3]!;
    k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2);
    h1 ^= k1;
    h1 = (Math.imul(rotl(h1, 19) + h2, 5) + 0x561ccd1b) | 0;
    k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3);
    h2 ^= k2;
    h2 = (Math.imul(rotl(h2, 17) + h3, 5) + 0x0bcaa747) | 0;
    k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4);
    h3 ^= k3;
    h3 = (Math.imul(rotl(h3, 15) + h4, 5) + 0x96cd1c35) | 0;
    k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1);
    h4 ^= k4;
    h4 = (Math.imul(rotl(h4, 13) + h1, 5) + 0x32ac3b17) | 0;
  }
  const tail = blocks << 4;
  const rest = len & 15;
  let k1 = 0;
  let k2 = 0;
  let k3 = 0;
  let k4 = 0;
  // The reference's fall-through switch: bytes past the last full block, little-endian.
  for (let i = rest - 1; i >= 0; i--) {
    const v = bytes[tail + i]! << ((i & 3) << 3);
    if (i >= 12) k4 ^= v;
    else if (i >= 8) k3 ^= v;
    else if (i >= 4) k2 ^= v;
    else k1 ^= v;
  }
  if (rest > 12) h4 ^= Math.imul(rotl(Math.imul(k4, C4), 18), C1);
  if (rest > 8) h3 ^= Math.imul(rotl(Math.imul(k3, C3), 17), C4);
  if (rest > 4) h2 ^= Math.imul(rotl(Math.imul(k2, C2), 16), C3);
  if (rest > 0) h1 ^= Math.imul(rotl(Math.imul(k1, C1), 15), C2);
  h1 ^= len;
  h2 ^= len;
  h3 ^= len;
  h4 ^= len;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h3 = fmix(h3);
  h4 = fmix(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  if (full) {
    out[at] = h1;
    out[at + 1] = h2;
    out[at + 2] = h3 + h1;
    out[at + 3] = h4 + h1;
  } else {
    out[at] = h2;
    out[at + 1] = h1;
  }
}

/** The little-endian word of `src[i, i + 4)` (ASCII), or -1 when one of them is not ASCII. */
function asciiWord(src: string, i: number): number {
  const a = src.charCodeAt(i);
  const b = src.charCodeAt(i + 1);
  const c = src.charCodeAt(i + 2);
  const d = src.charCodeAt(i + 3);
  if ((a | b | c | d) >= 0x80) return -1;
  return a | (b << 8) | (c << 16) | (d << 24);
}

/**
 * `murmur3Words` of one prefix block straight from the string: the bytes of
 * `src[start, start + chars)` (ASCII: one byte a character) followed by `lo` and `hi` as
 * little-endian words, with seed 0, writing the first 64 bits of the digest to
 * `out[at]` (high) and `out[at + 1]` (low). The same digest as writing those bytes out
 * and hashing them, without the copy. `chars` must be a multiple of 16; returns false
 * (and writes nothing) at the first character that is not ASCII, which the caller then
 * encodes as UTF-8 and hashes the long way.
 */
export function murmur3AsciiBlock(
  src: string,
  start: number,
  chars: number,
  lo: number,
  hi: number,
  out: Uint32Array,
  at: number,
): boolean {
  let h1 = 0;
  let h2 = 0;
  let h3 = 0;
  let h4 = 0;
  for (let i = start; i < start + chars; i += 16) {
    let k1 = asciiWord(src, i);
    let k2 = asciiWord(src, i + 4);
    let k3 = asciiWord(src, i + 8);
    let k4 = asciiWord(src, i + 12);
    if ((k1 | k2 | k3 | k4) < 0) return false; // a word of ASCII is never negative; -1 is
    k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2);
    h1 ^= k1;
    h1 = (Math.imul(rotl(h1, 19) + h2, 5) + 0x561ccd1b) | 0;
    k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3);
    h2 ^= k2;
    h2 = (Math.imul(rotl(h2, 17) + h3, 5) + 0x0bcaa747) | 0;
    k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4);
    h3 ^= k3;
    h3 = (Math.imul(rotl(h3, 15) + h4, 5) + 0x96cd1c35) | 0;
    k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1);
    h4 ^= k4;
    h4 = (Math.imul(rotl(h4, 13) + h1, 5) + 0x32ac3b17) | 0;
  }
  finishBlock(h1, h2, h3, h4, chars, lo, hi, out, at);
  return true;
}

/**
 * `murmur3AsciiBlock` over bytes already in `words` (a little-endian `Uint32Array` view):
 * the block is the `chars` bytes from word `q0` (`chars` a multiple of 16), followed by
 * `lo` and `hi`. For ASCII prompts the caller encodes the whole window once (a native
 * `encodeInto`) and hashes every block from it: no character read one at a time (about
 * twice as fast as `murmur3AsciiBlock` on V8 and on JSC), the same digests.
 */
export function murmur3WordBlock(
  words: Uint32Array,
  q0: number,
  chars: number,
  lo: number,
  hi: number,
  out: Uint32Array,
  at: number,
): void {
  let h1 = 0;
  let h2 = 0;
  let h3 = 0;
  let h4 = 0;
  const end = q0 + (chars >>> 2);
  for (let q = q0; q < end; q += 4) {
    let k1 = words[q]!;
    let k2 = words[q + 1]!;
    let k3 = words[q + 2]!;
    let k4 = words[q + 3]!;
    k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2);
    h1 ^= k1;
    h1 = (Math.imul(rotl(h1, 19) + h2, 5) + 0x561ccd1b) | 0;
    k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3);
    h2 ^= k2;
    h2 = (Math.imul(rotl(h2, 17) + h3, 5) + 0x0bcaa747) | 0;
    k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4);
    h3 ^= k3;
    h3 = (Math.imul(rotl(h3, 15) + h4, 5) + 0x96cd1c35) | 0;
    k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1);
    h4 ^= k4;
    h4 = (Math.imul(rotl(h4, 13) + h1, 5) + 0x32ac3b17) | 0;
  }
  finishBlock(h1, h2, h3, h4, chars, lo, hi, out, at);
}

/**
 * `murmur3WordBlock` for two consecutive blocks at once: the block at word `q0` (followed by
 * `lo`, `hi`) and the one after it (followed by the first one's hash), written to
 * `out[at..at + 3]`. A block's chained input (the previous hash) is only its 8-byte tail, so
 * the two blocks' bodies do not depend on each other; running them in one loop gives the CPU
 * two independent chains of multiplies where one block's h1 -> h2 -> h3 -> h4 -> h1 leaves it
 * waiting (issue 19, seventh pass: 256 blocks 10-13 -> ~9 µs on Bun, 16-22 -> 13-15 on Node).
 * The same digests as two calls of `murmur3WordBlock`.
 */
export function murmur3WordPair(
  words: Uint32Array,
  q0: number,
  chars: number,
  lo: number,
  hi: number,
  out: Uint32Array,
  at: number,
): void {
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let a4 = 0;
  let b1 = 0;
  let b2 = 0;
  let b3 = 0;
  let b4 = 0;
  const step = chars >>> 2;
  const end = q0 + step;
  for (let q = q0; q < end; q += 4) {
    const r = q + step;
    let ka = Math.imul(rotl(Math.imul(words[q]!, C1), 15), C2);
    let kb = Math.imul(rotl(Math.imul(words[r]!, C1), 15), C2);
    a1 ^= ka;
    b1 ^= kb;
    a1 = (Math.imul(rotl(a1, 19) + a2, 5) + 0x561ccd1b) | 0;
    b1 = (Math.imul(rotl(b1, 19) + b2, 5) + 0x561ccd1b) | 0;
    ka = Math.imul(rotl(Math.imul(words[q + 1]!, C2), 16), C3);
    kb = Math.imul(rotl(Math.imul(words[r + 1]!, C2), 16), C3);
    a2 ^= ka;
    b2 ^= kb;
    a2 = (Math.imul(rotl(a2, 17) + a3, 5) + 0x0bcaa747) | 0;
    b2 = (Math.imul(rotl(b2, 17) + b3, 5) + 0x0bcaa747) | 0;
    ka = Math.imul(rotl(Math.imul(words[q + 2]!, C3), 17), C4);
    kb = Math.imul(rotl(Math.imul(words[r + 2]!, C3), 17), C4);
    a3 ^= ka;
    b3 ^= kb;
    a3 = (Math.imul(rotl(a3, 15) + a4, 5) + 0x96cd1c35) | 0;
    b3 = (Math.imul(rotl(b3, 15) + b4, 5) + 0x96cd1c35) | 0;
    ka = Math.imul(rotl(Math.imul(words[q + 3]!, C4), 18), C1);
    kb = Math.imul(rotl(Math.imul(words[r + 3]!, C4), 18), C1);
    a4 ^= ka;
    b4 ^= kb;
    a4 = (Math.imul(rotl(a4, 13) + a1, 5) + 0x32ac3b17) | 0;
    b4 = (Math.imul(rotl(b4, 13) + b1, 5) + 0x32ac3b17) | 0;
  }
  finishBlock(a1, a2, a3, a4, chars, lo, hi, out, at);
  finishBlock(b1, b2, b3, b4, chars, out[at + 1]!, out[at]!, out, at + 2);
}

/**
 * The end of one block's hash for both block readers: the 8-byte tail (the previous hash,
 * `lo` then `hi`) as the reference's fall-through reads it, the length, the final mix, and
 * the first 64 bits written to `out[at]` (high word) and `out[at + 1]`.
 */
function finishBlock(
  h1: number,
  h2: number,
  h3: number,
  h4: number,
  chars: number,
  lo: number,
  hi: number,
  out: Uint32Array,
  at: number,
): void {
  h2 ^= Math.imul(rotl(Math.imul(hi, C2), 16), C3);
  h1 ^= Math.imul(rotl(Math.imul(lo, C1), 15), C2);
  const len = chars + 8;
  h1 ^= len;
  h2 ^= len;
  h3 ^= len;
  h4 ^= len;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h3 = fmix(h3);
  h4 = fmix(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  out[at] = h2;
  out[at + 1] = h1;
}
