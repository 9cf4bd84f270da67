import { fmix64, xxh64 } from "./xxhash64.ts";

/**
 * Rendezvous (highest-random-weight) hashing: every endpoint gets a pseudo-random
 * weight for a key, the highest wins. Any two gateway replicas given the same key and
 * the same endpoint names agree on the order without talking to each other, and adding
 * or removing one endpoint only moves the keys that endpoint wins.
 *
 *   weight(key, name) = fmix64(key XOR xxHash64(utf8(name), seed 0))
 *
 * compared as an unsigned 64-bit number (read as a double: hi * 2^32 + lo; equal weights
 * fall back to name order). fmix64 is MurmurHash3's finalizer (src/scheduling/prefix/xxhash64.ts),
 * a bijection in which every input bit flips each output bit with probability ~1/2, so for
 * a key the names' weights are as good as independent draws.
 *
 * A name's hash is computed once (names change only when pods do), so weighing a band costs
 * one finalizer per endpoint, ~20 ns, where hashing each name with the key as seed cost
 * ~150-250 ns (issue 19, twenty-fourth pass: a decision at 64 idle endpoints with a prompt
 * block paid ~10 µs for it). Replicas must run the same definition to agree: one that
 * still runs the older one (up to the twenty-third pass) places new prefixes elsewhere until
 * it is upgraded.
 */

/** Each name's xxHash64 as [hi, lo], cleared past `MAX_NAMES` (pods come and go; a bounded cache cannot grow with them). */
const names = new Map<string, Uint32Array>();
const MAX_NAMES = 4096;

/** A name's xxHash64 as [hi, lo] (read-only: shared by every caller). */
export function nameHash(name: string): Uint32Array {
  let h = names.get(name);
  if (h === undefined) {
    if (names.size >= MAX_NAMES) names.clear();
    h = xxh64(name);
    names.set(name, h);
  }
  return h;
}

export function rendezvousWeight(keyHi: number, keyLo: number, name: string): number {
  const h = nameHash(name);
  return fmix64((keyHi ^ h[0]!) >>> 0, (keyLo ^ h[1]!) >>> 0);
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
