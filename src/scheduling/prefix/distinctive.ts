/**
 * The prompt's distinctive block: the first block of its prefix chain that is NOT shared
 * by most prompts this gateway has seen. It is the rendezvous key of a prompt (the pod a
 * new prefix goes to) and the start of what counts as "new": a preamble every prompt
 * shares (the same first 512 characters before each system prompt) is common and says
 * nothing about which pod should hold the prompt, so it must neither be the key (every
 * group would hash to one pod) nor make a prompt look known.
 *
 * Statistics: with n the number of prompts recorded, decayed with a half-life of
 * `halfLife` prompts, and seen(k) the decayed number of recorded prompts whose chain ran
 * through block key k,
 *
 *   common(k)   = seen(k) >= share x n and more than one prompt ran through k
 *                 (share = 0.5: "shared by most prompts")
 *   distinctive = first j with not common(k_j); the last block when every block is common
 *
 * From the second prompt on, a preamble two prompts share is common and the first block
 * after it is distinctive; one group of prompts among many stays under the share, so its
 * own first block is its key. Decay lets the statistics follow a changing workload;
 * replicas that see the same traffic mix compute the same blocks (the shares they see are
 * the same up to sampling noise, and the rule is far from its threshold on a preamble,
 * ~100 %, or on one group among several).
 *
 * Cost: one hash-table update per block recorded (key-table.ts: typed arrays, no
 * allocation per key). Decay without touching every entry: counts
 * are kept scaled by 2^(seq / halfLife) (a later prompt adds a larger weight), so the
 * ratio seen(k) / n is the decayed share; the scale is brought back when it grows large.
 *
 * Memory: one number (and a table slot) per block key; the prefix index forgets a key here when no
 * endpoint holds it any more, so this is bounded by the index itself.
 */
import { grownFloat64, KeyTable } from "./key-table.ts";

/**
 * Where the statistics keep one weight per block key. Standalone: their own key table.
 * The prefix index keeps them beside its own entries (`PrefixIndex.prompts`): a weight is
 * then added only to keys the index holds and dropped with the key, with no second table
 * to probe on every insert and eviction.
 */
export interface PromptWeights {
  /** The key's weight (0 when unknown). */
  get(key: number): number;
  /** Adds `w` to the key's weight (a store may ignore keys it does not keep). */
  add(key: number, w: number): void;
  /** Drops the key's weight. */
  forget(key: number): void;
  /** Divides every weight by `w`. */
  divideAll(w: number): void;
  /** Keys with a weight. */
  readonly size: number;
  /** Optional batch forms (one call per prompt): `add(key, w)` for each key; the first j with `get(keys[j]) < bar`, or -1. */
  addAll?(keys: readonly number[], w: number): void;
  firstBelow?(keys: readonly number[], bar: number): number;
}

/** Weights in their own open-addressing table (no Map entry per key). */
class TableWeights implements PromptWeights {
  private readonly ids = new KeyTable();
  private seen = new Float64Array(64);

  get(key: number): number {
    const id = this.ids.find(key);
    return id < 0 ? 0 : this.seen[id]!;
  }

  add(key: number, w: number): void {
    const id = this.ids.insert(key);
    if (id >= this.seen.length) this.seen = grownFloat64(this.seen, this.ids.idCapacity);
    this.seen[id]! += w;
  }

  forget(key: number): void {
    const id = this.ids.find(key);
    if (id < 0) return;
    this.seen[id] = 0;
    this.ids.removeId(id);
  }

  divideAll(w: number): void {
    const seen = this.seen;
    for (let id = 0; id < seen.length; id++) seen[id]! /= w;
  }

  get size(): number {
    return this.ids.size;
  }
}

export class PromptStatistics {
  private total = 0;
  private seq = 0;

  constructor(
    readonly share = 0.5,
    readonly halfLife = 4096,
    private readonly weights: PromptWeights = new TableWeights(),
  ) {}

  /** Index of the distinctive block of `keys` (see the module comment); 0 for an empty chain. */
  distinctive(keys: readonly number[]): number {
    // More than one prompt's weight: a block only the previous prompt had is not common,
    // however few prompts there are yet (with 2 prompts seen, 1 is half).
    const bar = Math.max(this.share * this.total, 1.5 * 2 ** (this.seq / this.halfLife));
    if (this.total === 0) return 0;
    const below = this.weights.firstBelow;
    if (below !== undefined) {
      const j = below.call(this.weights, keys, bar);
      return j >= 0 ? j : Math.max(0, keys.length - 1);
    }
    for (let j = 0; j < keys.length; j++) if (this.weights.get(keys[j]!) < bar) return j;
    return Math.max(0, keys.length - 1);
  }

  /** Counts one prompt: every block of `keys`. */
  record(keys: readonly number[]): void {
    const w = this.nextWeight();
    if (this.weights.addAll !== undefined) this.weights.addAll(keys, w);
    else for (let j = 0; j < keys.length; j++) this.weights.add(keys[j]!, w);
    this.added(w);
  }

  /**
   * `record` for a store that adds the weights itself while it records the prompt's keys
   * (the prefix index, which has each key's slot in hand then): counts one prompt and
   * returns the weight to add to each of its keys (once per occurrence, as `record` does);
   * call `added(w)` once they are in.
   */
  nextWeight(): number {
    const w = 2 ** (++this.seq / this.halfLife);
    this.total += w;
    return w;
  }

  /** After a prompt's weights `w` were added (see `nextWeight`). */
  added(w: number): void {
    if (w > 2 ** 64) this.rescale(w);
  }

  /** Drops the statistics of a block key (no endpoint holds it any more). */
  forget(key: number): void {
    this.weights.forget(key);
  }

  get size(): number {
    return this.weights.size;
  }

  /** Divides every weight by `w` and restarts the sequence (shares are unchanged). */
  private rescale(w: number): void {
    this.weights.divideAll(w);
    this.total /= w;
    this.seq = 0;
  }
}
