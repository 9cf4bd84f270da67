/**
 * Prefix cache of a simulated vLLM pod: chained hashes over full KV blocks, kept in a
 * bounded LRU.
 *
 * Formula: the prompt text is cut into blocks of `blockSize` tokens (`blockSize * 4`
 * characters, 1 token = 4 characters); only full blocks are hashed. Block i's hash is
 * `h(h(i-1) + text(i))`, with h(-1) = h(model name), so a block hash names the whole
 * prefix up to it and two models (or LoRA adapters, as vLLM keys blocks by adapter too)
 * never share entries. A lookup counts the leading
 * blocks present in the cache; cached tokens = that count * blockSize.
 *
 * Bounded: at most `capacity` hashes (vLLM: num_gpu_blocks); the least recently used is
 * evicted first. Inserting a chain touches it back to front, so its first block is the
 * most recent and the tail of a prefix is evicted before its head, as in vLLM.
 */

/** Characters per simulated token. */
export const CHARS_PER_TOKEN = 4;

/** Tokens in a text under the simulator's 4-characters-per-token rule (never 0). */
export function countTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / CHARS_PER_TOKEN));
}

/** cyrb53: a fast 53-bit string hash, plenty for thousands of blocks without collisions. */
export function hash53(text: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** Chained hashes of the full blocks of `text`, seeded by `model`. */
export function blockHashes(text: string, opts: { model: string; blockSize: number }): number[] {
  const blockChars = opts.blockSize * CHARS_PER_TOKEN;
  const full = Math.floor(text.length / blockChars);
  const hashes: number[] = [];
  let prev = hash53(opts.model);
  for (let i = 0; i < full; i++) {
    prev = hash53(`${prev}:${text.slice(i * blockChars, (i + 1) * blockChars)}`);
    hashes.push(prev);
  }
  return hashes;
}

/** A bounded LRU set of block hashes. Map iteration order is the recency order. */
export class PrefixCache {
  private readonly entries = new Map<number, true>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** Number of leading hashes of the chain present in the cache. Does not touch them. */
  match(hashes: readonly number[]): number {
    let n = 0;
    while (n < hashes.length && this.entries.has(hashes[n]!)) n++;
    return n;
  }

  /** Inserts or touches every hash of the chain, then evicts down to capacity. */
  insert(hashes: readonly number[]): void {
    if (this.capacity <= 0) return;
    for (let i = hashes.length - 1; i >= 0; i--) {
      const h = hashes[i]!;
      this.entries.delete(h);
      this.entries.set(h, true);
    }
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as number;
      this.entries.delete(oldest);
    }
  }

  has(hash: number): boolean {
    return this.entries.has(hash);
  }

  clear(): void {
    this.entries.clear();
  }
}
