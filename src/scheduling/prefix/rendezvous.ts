import { alignedWords, xxh64Words } from "./xxhash64.ts";

/**
 * Rendezvous (highest-random-weight) hashing: every endpoint gets a pseudo-random
 * weight for a key, the highest wins. Any two gateway replicas given the same key and
 * the same endpoint names agree on the order without talking to each other, and adding
 * or removing one endpoint only moves the keys that endpoint wins.
 *
 * weight(key, name) = xxHash64(utf8(name), seed = key), compared as an unsigned 64-bit
 * number (read as a double: hi * 2^32 + lo; equal weights fall back to name order).
 */

const encoder = new TextEncoder();
const out = new Uint32Array(2);

/**
 * Endpoint names as UTF-8 bytes and words, encoded once: a decision weighs every endpoint
 * of its band, and the names change only when pods do. Cleared past `MAX_NAMES` (pods
 * come and go; a bounded cache cannot grow with them).
 */
const names = new Map<string, { bytes: Uint8Array; words: Uint32Array }>();
const MAX_NAMES = 4096;

export function rendezvousWeight(keyHi: number, keyLo: number, name: string): number {
  let n = names.get(name);
  if (n === undefined) {
    if (names.size >= MAX_NAMES) names.clear();
    const bytes = encoder.encode(name);
    n = { bytes, words: alignedWords(bytes) };
    names.set(name, n);
  }
  xxh64Words(n.bytes, n.words, n.bytes.length, keyHi, keyLo, out);
  return out[0]! * 4294967296 + out[1]!;
}

/** `items` ordered by descending rendezvous weight of `nameOf(item)` for the key (hi, lo). */
export function rendezvousOrder<T>(
  items: readonly T[],
  nameOf: (item: T) => string,
  key: { hi: number; lo: number },
): T[] {
  const weighted = items.map((item) => {
    const name = nameOf(item);
    return { item, name, w: rendezvousWeight(key.hi, key.lo, name) };
  });
  weighted.sort((a, b) => b.w - a.w || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return weighted.map((x) => x.item);
}
