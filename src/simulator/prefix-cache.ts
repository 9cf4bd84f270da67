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
 *
 * KV events (vLLM's `--kv-events-config`, published by kv-events.ts): a listener gets,
 * per insert, a BlockStored for each run of newly cached blocks (their hashes, the hash
 * of the block before the run as parent, their token ids) and a BlockRemoved for the
 * hashes evicted; `clear()` reports AllBlocksCleared. Token ids are the 4-character
 * tokens of src/kvevents/char-tokenizer.ts, so a gateway can compute the same keys.
 */

import { charTokens } from "../kvevents/char-tokenizer.ts";
import type { KvEvent } from "../kvevents/events.ts";

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

/** A chain of block hashes that remembers its text, so events can carry token ids. */
export type BlockChain = number[] & { source?: { text: string; blockChars: number } };

/** Chained hashes of the full blocks of `text`, seeded by `model`. */
export function blockHashes(text: string, opts: { model: string; blockSize: number }): BlockChain {
  const blockChars = opts.blockSize * CHARS_PER_TOKEN;
  const full = Math.floor(text.length / blockChars);
  const hashes: BlockChain = [];
  hashes.source = { text, blockChars };
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
  private listener: ((events: KvEvent[]) => void) | undefined;

  constructor(readonly capacity: number) {}

  /** Reports every later change as KV events (one call per insert or clear). */
  listen(listener: ((events: KvEvent[]) => void) | undefined): void {
    this.listener = listener;
  }

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
    const fresh = this.listener ? hashes.map((h) => !this.entries.has(h)) : undefined;
    for (let i = hashes.length - 1; i >= 0; i--) {
      const h = hashes[i]!;
      this.entries.delete(h);
      this.entries.set(h, true);
    }
    const evicted: number[] = [];
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as number;
      this.entries.delete(oldest);
      evicted.push(oldest);
    }
    if (fresh && this.listener) {
      const events = storedEvents(hashes, fresh, evicted);
      if (events.length > 0) this.listener(events);
    }
  }

  has(hash: number): boolean {
    return this.entries.has(hash);
  }

  clear(): void {
    this.entries.clear();
    this.listener?.([{ kind: "AllBlocksCleared" }]);
  }
}

/** BlockStored per run of fresh blocks (in chain order), then BlockRemoved for `evicted`. */
function storedEvents(chain: BlockChain | readonly number[], fresh: boolean[], evicted: number[]): KvEvent[] {
  const source = (chain as BlockChain).source;
  const blockSize = source ? source.blockChars / CHARS_PER_TOKEN : 0;
  const events: KvEvent[] = [];
  for (let i = 0; i < chain.length; ) {
    if (!fresh[i]) {
      i++;
      continue;
    }
    let j = i;
    while (j < chain.length && fresh[j]) j++;
    if (source) {
      events.push({
        kind: "BlockStored",
        blockHashes: chain.slice(i, j).map(String),
        parentBlockHash: i === 0 ? undefined : String(chain[i - 1]),
        tokenIds: Array.from(charTokens(source.text.slice(i * source.blockChars, j * source.blockChars))),
        blockSize,
        loraId: undefined,
        medium: "GPU",
      });
    }
    i = j;
  }
  if (evicted.length > 0)
    events.push({ kind: "BlockRemoved", blockHashes: evicted.map(String), medium: "GPU" });
  return events;
}
