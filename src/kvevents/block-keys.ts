/**
 * Request keys: the gateway's own names for KV blocks, computed from token ids the same
 * way on both paths, as llm-d's token processor does (llm-d-kv-cache `kvblock`), so the
 * engine's hash function and seed never need to be reproduced:
 *
 *   root     = h53(hashSeed + "\0" + model)
 *   key(i)   = h53(key(i-1), tokens of block i)        (full blocks of `blockSize` only)
 *
 * - lookup: the prompt's tokens → keys → which pods hold the longest chain;
 * - ingestion: a BlockStored event's `token_ids` (blocks after `parent_block_hash`) →
 *   the same keys, chained from the key the parent's engine hash was mapped to.
 *
 * vLLM itself hashes `sha256(parent, token_ids, extra_keys)` seeded with NONE_HASH, which
 * is random per process unless PYTHONHASHSEED is set; recomputing our own keys from the
 * tokens avoids depending on that (llm-d's precise producer does the same).
 *
 * h53 is cyrb53 over 32-bit words: 53-bit keys, exact as JS numbers.
 */

/** cyrb53 of a string (the root seed). */
export function hashString(text: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  return finish(h1, h2);
}

function finish(a: number, b: number): number {
  let h1 = a;
  let h2 = b;
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** The key of one block: its parent's key and its tokens `tokens[start, end)`. */
export function blockKey(parent: number, tokens: ArrayLike<number>, start: number, end: number): number {
  let h1 = 0xdeadbeef ^ (parent >>> 0);
  let h2 = 0x41c6ce57 ^ Math.floor(parent / 4294967296);
  for (let i = start; i < end; i++) {
    const t = tokens[i]!;
    h1 = Math.imul(h1 ^ t, 2654435761);
    h2 = Math.imul(h2 ^ t, 1597334677);
  }
  return finish(h1, h2);
}

/** The root every chain of `model` starts from. */
export function rootKey(model: string, hashSeed = ""): number {
  return hashString(`${hashSeed}\0${model}`);
}

/**
 * Keys of the full blocks of `tokens` chained from `parent`; at most `maxBlocks`.
 * A trailing partial block has no key (vLLM caches full blocks only).
 */
export function chainKeys(
  parent: number,
  tokens: ArrayLike<number>,
  blockSize: number,
  maxBlocks = Number.POSITIVE_INFINITY,
): number[] {
  const n = Math.min(Math.floor(tokens.length / blockSize), maxBlocks);
  const keys: number[] = new Array(n);
  let prev = parent;
  for (let i = 0; i < n; i++) {
    prev = blockKey(prev, tokens, i * blockSize, (i + 1) * blockSize);
    keys[i] = prev;
  }
  return keys;
}
