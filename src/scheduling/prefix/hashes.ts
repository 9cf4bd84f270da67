import { murmur3AsciiBlock, murmur3WordBlock, murmur3WordPair, murmur3Words } from "./murmur3.ts";
import { alignedWords, LITTLE_ENDIAN } from "./xxhash64.ts";

/**
 * Chained block hashes of a prompt (REFERENCE "Approximate prefix index").
 *
 * The text is cut into blocks of `blockChars` characters (UTF-16 code units; default
 * 64 = 16 tokens x 4 characters); only full blocks count, at most `maxBlocks` of them.
 * With H = the first 64 bits of MurmurHash3_x86_128 (seed 0; the digest's first 8 bytes
 * as a little-endian number, see murmur3.ts) over bytes:
 *
 *   h_{-1} = H(utf8(model))
 *   h_i    = H(utf8(block_i) ++ le64(h_{i-1}))
 *
 * so h_i names the whole prefix up to block i, for that model only (a LoRA adapter is
 * its own model, as vLLM keys its cache by adapter too). The reference uses xxHash64;
 * any 64-bit hash that every replica computes alike keeps the index's properties, and
 * this one is 4-5x faster in JavaScript (a 32k-character prompt hashes 256 blocks per
 * request). Indexes are in memory, so a gateway that changes hash starts from empty.
 *
 * Index keys: the top 53 bits of each 64-bit hash, a safe JS integer that a Map hashes
 * without allocating. At 10^7 live entries the chance of any collision is ~10^-2, and a
 * collision only costs one spurious block match.
 */

export const CHARS_PER_TOKEN = 4;
export const DEFAULT_BLOCK_TOKENS = 16;
export const DEFAULT_BLOCK_CHARS = DEFAULT_BLOCK_TOKENS * CHARS_PER_TOKEN;
export const DEFAULT_MAX_BLOCKS = 256;

/**
 * A prompt's block hashes. Read-only once made: `hashPrefix` hands the same object to
 * every call with the same text (a repeated prompt), so nothing may write to its arrays.
 */
export interface PrefixHashes {
  /** Full blocks hashed (at most the `maxBlocks` asked for). */
  readonly count: number;
  /** Index keys (see `keyOf`), block 0 first. */
  readonly keys: readonly number[];
  /** The 64-bit hashes as `[hi0, lo0, hi1, lo1, ...]`. */
  readonly words: Uint32Array;
}

export const NO_HASHES: PrefixHashes = Object.freeze({ count: 0, keys: [], words: new Uint32Array(0) });

/** The index key of a 64-bit hash: its top 53 bits as a safe integer. */
export function keyOf(hi: number, lo: number): number {
  return (hi >>> 11) * 4294967296 + (lo >>> 0);
}

const encoder = new TextEncoder();

/** H of a string (as UTF-8) as `[hi, lo]`: the chain's seed from the model name. */
export function hash64(text: string): Uint32Array {
  const utf8 = encoder.encode(text);
  const buffer = new Uint8Array((utf8.length + 3) & ~3);
  buffer.set(utf8);
  const out = new Uint32Array(2);
  murmur3Words(buffer, alignedWords(buffer), utf8.length, 0, out);
  return out;
}

/** The chain's seed per model: `hash64(model)`, kept for the last few models (one per request otherwise). */
const seeds = new Map<string, Uint32Array>();

function seedOf(model: string): Uint32Array {
  let seed = seeds.get(model);
  if (seed === undefined) {
    seed = hash64(model);
    if (seeds.size >= 64) seeds.clear();
    seeds.set(model, seed);
  }
  return seed;
}

/**
 * Hashes the first `maxBlocks` full blocks of `text` (see the module comment). The text
 * may come as parts (the prompt's pieces, prompt.ts `promptParts`): the hashes are those
 * of the parts joined, without building the joined string.
 */
export function hashPrefix(
  text: string | readonly string[],
  opts: { model: string; blockChars: number; maxBlocks: number },
): PrefixHashes {
  const { blockChars } = opts;
  const parts = typeof text === "string" ? [text] : text;
  let total = 0;
  for (const part of parts) total += part.length;
  const count = Math.min(Math.floor(total / blockChars), opts.maxBlocks);
  if (count <= 0 || blockChars <= 0) return NO_HASHES;
  const seed = seedOf(opts.model);
  const same = last.seed === seed && last.blockChars === blockChars;
  if (same && count === last.count && sameParts(parts, last.parts)) {
    // The very text of the last call (strings compare natively): its hashes, shared (they
    // are read-only: nothing writes a PrefixHashes after it is made).
    hashWork.reused += count;
    last.parts = parts;
    return last.hashes;
  }
  const words = new Uint32Array(count * 2);
  const keys = new Array<number>(count);
  // Blocks of whole words hash straight from the string when ASCII (murmur3AsciiBlock).
  const ascii16 = (blockChars & 15) === 0;
  if (ascii16 && LITTLE_ENDIAN && asciiWindow(parts, count * blockChars)) {
    // The whole window is ASCII and in `window` as bytes: every block from its words, but
    // the leading blocks whose bytes the last ASCII window had too (same model and block
    // size) keep that window's hashes: a chain's hash names its prefix and nothing after.
    const view = windowWords;
    const reused = same && last.ascii ? sameBlocks(count, blockChars) : 0;
    for (let i = 0; i < reused; i++) keys[i] = last.keys[i]!;
    if (reused > 0) words.set(last.words.subarray(0, reused * 2));
    let hi = reused > 0 ? words[reused * 2 - 2]! : seed[0]!;
    let lo = reused > 0 ? words[reused * 2 - 1]! : seed[1]!;
    // Two blocks a call (their bodies are independent: murmur3WordPair), the odd one alone.
    let i = reused;
    for (; i + 1 < count; i += 2) {
      murmur3WordPair(view, (i * blockChars) >>> 2, blockChars, lo, hi, words, i * 2);
      keys[i] = keyOf(words[i * 2]!, words[i * 2 + 1]!);
      hi = words[i * 2 + 2]!;
      lo = words[i * 2 + 3]!;
      keys[i + 1] = keyOf(hi, lo);
    }
    if (i < count) {
      murmur3WordBlock(view, (i * blockChars) >>> 2, blockChars, lo, hi, words, i * 2);
      keys[i] = keyOf(words[i * 2]!, words[i * 2 + 1]!);
    }
    hashWork.blocks += count - reused;
    hashWork.reused += reused;
    keep(seed, blockChars, parts, count, keys, words, true);
    return last.hashes;
  }
  hashWork.blocks += count;
  // Room for a block at 3 UTF-8 bytes per code unit plus the previous hash, word aligned.
  const buffer = new ArrayBuffer((blockChars * 3 + 8 + 3) & ~3);
  const bytes = new Uint8Array(buffer);
  const view = LITTLE_ENDIAN ? new Uint32Array(buffer) : undefined;
  let prevHi = seed[0]!;
  let prevLo = seed[1]!;
  let p = 0;
  let off = 0;
  for (let i = 0; i < count; i++) {
    // The block as (src, start): inside one part, or (rarely) built across parts.
    let src = parts[p]!;
    let start = off;
    if (src.length - off >= blockChars) {
      off += blockChars;
    } else {
      src = "";
      start = 0;
      for (let need = blockChars; need > 0; ) {
        const part = parts[p]!;
        const take = Math.min(need, part.length - off);
        src += part.slice(off, off + take);
        need -= take;
        off += take;
        if (off === part.length) {
          p++;
          off = 0;
        }
      }
    }
    if (ascii16 && murmur3AsciiBlock(src, start, blockChars, prevLo, prevHi, words, i * 2)) {
      prevHi = words[i * 2]!;
      prevLo = words[i * 2 + 1]!;
      keys[i] = keyOf(prevHi, prevLo);
      continue;
    }
    let len = blockChars;
    for (let j = 0; j < blockChars; j++) {
      const c = src.charCodeAt(start + j);
      if (c >= 0x80) {
        len = encoder.encodeInto(src.slice(start, start + blockChars), bytes).written;
        break;
      }
      bytes[j] = c;
    }
    bytes[len] = prevLo & 0xff;
    bytes[len + 1] = (prevLo >>> 8) & 0xff;
    bytes[len + 2] = (prevLo >>> 16) & 0xff;
    bytes[len + 3] = prevLo >>> 24;
    bytes[len + 4] = prevHi & 0xff;
    bytes[len + 5] = (prevHi >>> 8) & 0xff;
    bytes[len + 6] = (prevHi >>> 16) & 0xff;
    bytes[len + 7] = prevHi >>> 24;
    murmur3Words(bytes, view ?? alignedWords(bytes, len + 8), len + 8, 0, words, i * 2);
    prevHi = words[i * 2]!;
    prevLo = words[i * 2 + 1]!;
    keys[i] = keyOf(prevHi, prevLo);
  }
  keep(seed, blockChars, parts, count, keys, words, false);
  return last.hashes;
}

/** Windows up to this many characters are encoded whole for hashing (256 blocks of 64 = 16 KiB by default). */
const WINDOW_MAX = 64 * 1024;
/** The hash window's bytes (reused: hashing is synchronous), and its words. */
let window = new Uint8Array(16 * 1024);
let windowWords = new Uint32Array(window.buffer);

/**
 * Encodes the first `chars` characters of the parts into `window` when they are all ASCII
 * (one byte each: `encodeInto` then writes as many bytes as it reads characters, natively,
 * far faster than reading characters one by one); false otherwise (or for a window over
 * WINDOW_MAX), and the caller hashes the long way.
 */
function asciiWindow(parts: readonly string[], chars: number): boolean {
  if (chars > WINDOW_MAX) return false;
  if (window.length < chars) {
    window = new Uint8Array(Math.max(chars, window.length * 2));
    windowWords = new Uint32Array(window.buffer);
  }
  let at = 0;
  for (let p = 0; at < chars && p < parts.length; p++) {
    const part = parts[p]!;
    const take = Math.min(part.length, chars - at);
    if (take === 0) continue;
    const r = encoder.encodeInto(
      take === part.length ? part : part.slice(0, take),
      window.subarray(at, at + take),
    );
    if (r.read !== take || r.written !== take) return false;
    at += take;
  }
  return at === chars;
}

/** Blocks hashed and blocks reused from the last window since start (tests and benchmarks read it). */
export const hashWork = { blocks: 0, reused: 0 };

/**
 * The last call's text (its parts, model seed and block size) and hashes, and when it was
 * ASCII its window's bytes (`lastWindow`, trading places with `window`: nothing copied):
 * the same text again (strings compare natively) costs two copies of its hashes, and an
 * ASCII prompt that shares leading blocks with the one before (a system prompt, an earlier
 * turn) hashes only the blocks after the first difference; comparing a block's words costs
 * a fraction of hashing them. A chain's hash names its prefix and nothing after it, so the
 * digests are those of hashing every block. Module state like `window`: hashing is
 * synchronous.
 */
const last = {
  seed: undefined as Uint32Array | undefined,
  blockChars: 0,
  parts: [] as readonly string[],
  /** `lastWindow` holds this text's first `count` blocks as bytes. */
  ascii: false,
  count: 0,
  keys: [] as readonly number[],
  words: new Uint32Array(0) as Uint32Array,
  hashes: NO_HASHES,
};
let lastWindow = new Uint8Array(16 * 1024);
let lastWindowWords = new Uint32Array(lastWindow.buffer);

/**
 * Whether `keys` is the keys array the last `hashPrefix` call handed out (its `keys`, also
 * what a repeated text gets again). Nothing writes a PrefixHashes' arrays once it is made,
 * and a new text gets new arrays: so a memo made from this very array still holds its keys,
 * and may take identity for equality (prefix-memos.ts `keptKeys`). Arrays from anywhere else
 * (a caller's own, which it may change after a call) answer false.
 */
export function isLastHashed(keys: readonly number[]): boolean {
  return keys === last.keys && keys.length > 0;
}

function sameParts(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Leading blocks of the window (`count` blocks of `blockChars` ASCII bytes) equal to the
 * last window's. Compared 8 bytes at a time as doubles: ASCII bytes never set a double's
 * sign or exponent high bits, so no NaN and no -0, and equal doubles are equal bytes.
 */
function sameBlocks(count: number, blockChars: number): number {
  const n = Math.min(count, last.count);
  const a = new Float64Array(window.buffer, 0, (n * blockChars) >>> 3);
  const b = new Float64Array(lastWindow.buffer, 0, (n * blockChars) >>> 3);
  let q = 0;
  while (q < a.length && a[q] === b[q]) q++;
  return Math.floor((q * 8) / blockChars);
}

/** Keeps this call's text and hashes as the last (an ASCII window's buffers trade places). */
function keep(
  seed: Uint32Array,
  blockChars: number,
  parts: readonly string[],
  count: number,
  keys: readonly number[],
  words: Uint32Array,
  ascii: boolean,
): void {
  if (ascii) {
    const bytes = window;
    const w = windowWords;
    window = lastWindow;
    windowWords = lastWindowWords;
    lastWindow = bytes;
    lastWindowWords = w;
  }
  last.seed = seed;
  last.blockChars = blockChars;
  last.parts = parts;
  last.ascii = ascii;
  last.count = count;
  last.keys = keys;
  last.words = words;
  last.hashes = { count, keys, words };
}

/** The first `n` blocks of `h` (a chain's prefix does not depend on what follows it). */
export function truncateHashes(h: PrefixHashes, n: number): PrefixHashes {
  if (n >= h.count) return h;
  if (n <= 0) return NO_HASHES;
  return { count: n, keys: h.keys.slice(0, n), words: h.words.subarray(0, n * 2) };
}
