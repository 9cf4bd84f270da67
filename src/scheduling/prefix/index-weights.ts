/**
 * The prompt statistics' weights kept in the prefix index's own key slots
 * (`PrefixIndex.prompts`, distinctive.ts `PromptWeights`): a prompt's keys are counted only
 * while the index holds them (record the pick first, then the prompt), and a key leaving
 * the index takes its weight along; no second table to probe on every insert and eviction.
 * A prompt's slots are placed once per holders version (prefix-memos.ts `PlacedKeys`), so a
 * decision's read and its record's add of the same prompt probe its keys once.
 */

import type { PromptWeights } from "./distinctive.ts";
import type { HolderStore } from "./holder-store.ts";
import { PlacedKeys } from "./prefix-memos.ts";

export class IndexWeights implements PromptWeights {
  /** The slots of the last keys the statistics read or wrote (prefix-memos.ts). */
  private readonly placed = new PlacedKeys();

  /** `settle` applies the index's deferred picks, if any: every read sees them first. */
  constructor(
    private readonly store: HolderStore,
    private readonly settle: () => void,
  ) {}

  get(key: number): number {
    this.settle();
    return this.store.keys.weight(key);
  }

  add(key: number, w: number): void {
    this.store.keys.addWeight(key, w);
  }

  forget(key: number): void {
    this.placed.forgetFloor();
    this.store.keys.clearWeight(key);
  }

  divideAll(w: number): void {
    this.placed.forgetFloor();
    this.store.keys.divideWeights(w);
  }

  get size(): number {
    this.settle();
    return this.store.keys.weighted;
  }

  addAll(keys: readonly number[], w: number): void {
    const holders = this.store.holdersVersion;
    const placed = this.placed;
    // The same prompt again, every key of it weighed (a floor above 0: no absent key) and
    // placed: its adds deferred (key-records.ts `deferWeightsAt`, applied before anything
    // else reads a weight), its floor carried forward exactly: fl(x + w) is monotone in x,
    // so the least of the new weights is fl(floor + w).
    if (w > 0 && placed.floor > 0 && placed.current(keys, holders)) {
      this.store.keys.deferWeightsAt(placed.shards, placed.slots, keys.length, w);
      placed.floor += w;
      return;
    }
    const p = placed.place(keys, holders, this.store.keys);
    p.floor = this.store.keys.addWeightsAt(p.shards, p.slots, keys.length, w);
  }

  firstBelow(keys: readonly number[], bar: number): number {
    this.settle();
    // The slots a repeated prompt's record placed; a new prompt is probed only up to its
    // first light block (its block 0: no key of it is in the index).
    const p = this.placed;
    if (p.current(keys, this.store.holdersVersion))
      // No weight of them below their floor: every block common (a repeated prompt that is
      // all preamble, as the overhead benchmark's) reads no weight.
      return p.floor >= bar ? -1 : this.store.keys.firstBelowAt(p.shards, p.slots, keys.length, bar);
    return this.store.keys.firstBelow(keys, bar);
  }

  /** `prompts.record`'s weights (`w` > 0; else nothing) for keys a record did not add them to. */
  addWeights(keys: readonly number[], w: number): void {
    if (w > 0 && keys.length > 0) this.addAll(keys, w);
  }
}
