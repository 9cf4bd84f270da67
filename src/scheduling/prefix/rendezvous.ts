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

export function rendezvousWeight(keyHi: number, keyLo: number, name: string): number {
  const bytes = encoder.encode(name);
  xxh64Words(bytes, alignedWords(bytes), bytes.length, keyHi, keyLo, out);
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
