import { describe, expect, test } from "bun:test";
import { PromptStatistics } from "../../src/scheduling/prefix/distinctive.ts";
import { KeyRecords } from "../../src/scheduling/prefix/key-records.ts";
import { PrefixIndex } from "../../src/scheduling/prefix/prefix-index.ts";

/**
 * A repeated prompt's weight adds deferred (key-records.ts `deferWeightsAt`, fifteenth
 * pass): kept in order and applied before anything reads or changes a weight or moves or
 * places a slot. Each test checks the weights bit for bit against the same adds made at
 * once, with adds whose sum depends on their order (1 + 2^-53 + 2^-53 is 1 one add at a
 * time, 1 + 2^-52 summed first): a flush that summed the adds first, skipped a reader, or
 * went key by key over a key placed twice would fail.
 */

const TINY = 2 ** -53;
const chain = (base: number, n: number) => Array.from({ length: n }, (_, i) => base + i);

/** Two tables holding `keys` (each weighed 1 once), their places located. */
function pair(keys: number[]) {
  const make = () => {
    const t = new KeyRecords();
    for (const k of new Set(keys)) t.add(k, 0);
    const shards = new Int32Array(keys.length);
    const slots = new Int32Array(keys.length);
    t.locate(keys, shards, slots);
    t.addWeightsAt(shards, slots, keys.length, 1);
    return { t, shards, slots };
  };
  return { now: make(), later: make() };
}

const weights = (t: KeyRecords, keys: number[]) => keys.map((k) => t.weight(k));

describe("deferred weight adds", () => {
  test("applied in order, to the bit, when a weight is read", () => {
    const keys = chain(1, 40);
    const { now, later } = pair(keys);
    for (let c = 0; c < 5; c++) {
      now.t.addWeightsAt(now.shards, now.slots, keys.length, TINY);
      later.t.deferWeightsAt(later.shards, later.slots, keys.length, TINY);
    }
    expect(later.t.pendingWeights).toBe(5);
    const want = weights(now.t, keys);
    expect(want[0]).toBe(1); // one add at a time: each 2^-53 rounds away
    expect(weights(later.t, keys)).toEqual(want);
    expect(later.t.pendingWeights).toBe(0);
  });

  test("a key placed twice gets each call's adds in turn, as at once", () => {
    const keys = [7, 8, 7, 9, 8];
    const { now, later } = pair(keys);
    for (const w of [TINY, 0.5, TINY, 3, TINY]) {
      now.t.addWeightsAt(now.shards, now.slots, keys.length, w);
      later.t.deferWeightsAt(later.shards, later.slots, keys.length, w);
    }
    expect(weights(later.t, [7, 8, 9])).toEqual(weights(now.t, [7, 8, 9]));
    expect(later.t.weighted).toBe(now.t.weighted);
  });

  test("every reader and every change applies them first", () => {
    const keys = chain(100, 24);
    const other = chain(5000, 8);
    const steps: [string, (t: KeyRecords, p: { shards: Int32Array; slots: Int32Array }) => unknown][] = [
      ["weight", (t) => t.weight(keys[3]!)],
      ["weighted", (t) => t.weighted],
      ["firstBelow", (t) => t.firstBelow(keys, 1.5)],
      ["firstBelowAt", (t, p) => t.firstBelowAt(p.shards, p.slots, keys.length, 1.5)],
      ["addWeight", (t) => t.addWeight(keys[2]!, TINY)],
      ["clearWeight", (t) => t.clearWeight(keys[4]!)],
      ["divideWeights", (t) => t.divideWeights(3)],
      ["removal", (t) => t.setHead(keys[5]!, -1)],
      ["add", (t) => other.map((k) => t.add(k, 0))],
      ["locate", (t) => t.locate(other, new Int32Array(8), new Int32Array(8))],
    ];
    for (const [name, step] of steps) {
      const { now, later } = pair(keys);
      for (let c = 0; c < 3; c++) {
        now.t.addWeightsAt(now.shards, now.slots, keys.length, TINY);
        later.t.deferWeightsAt(later.shards, later.slots, keys.length, TINY);
      }
      const a = step(now.t, now);
      const b = step(later.t, later);
      expect([name, later.t.pendingWeights]).toEqual([name, 0]);
      expect([name, b]).toEqual([name, a]);
      expect([name, ...weights(later.t, keys)]).toEqual([name, ...weights(now.t, keys)]);
    }
  });

  test("other places, or a full list, apply the pending ones first", () => {
    const keys = chain(1, 16);
    const { now, later } = pair(keys);
    for (let c = 0; c < 70; c++) {
      now.t.addWeightsAt(now.shards, now.slots, keys.length, TINY);
      later.t.deferWeightsAt(later.shards, later.slots, keys.length, TINY);
      expect(later.t.pendingWeights).toBeLessThanOrEqual(32);
    }
    // The first 8 keys placed in arrays of their own: the pending adds go in first.
    const shards = new Int32Array(8);
    const slots = new Int32Array(8);
    now.t.locate(keys.slice(0, 8), shards, slots);
    now.t.addWeightsAt(shards, slots, 8, 0.25);
    later.t.deferWeightsAt(shards.slice(), slots.slice(), 8, 0.25);
    expect(weights(later.t, keys)).toEqual(weights(now.t, keys));
  });
});

describe("a repeated prompt in the index", () => {
  test("its statistics' adds are deferred, with the same weights and blocks as made at once", () => {
    const index = new PrefixIndex();
    const table = (index as unknown as { store: { keys: KeyRecords } }).store.keys;
    const standalone = new PromptStatistics(0.5, 4096);
    const a = chain(1, 32);
    const b = chain(900, 20);
    index.record("p", a, 1000);
    index.record("q", b, 1000);
    let deferred = 0;
    for (let n = 0; n < 120; n++) {
      const keys = n % 9 === 8 ? b : a;
      expect(index.prompts.distinctive(keys)).toBe(standalone.distinctive(keys));
      index.record(keys === a ? "p" : "q", keys, 1000);
      index.prompts.record(keys);
      standalone.record(keys);
      if (table.pendingWeights > 0) deferred++;
    }
    expect(deferred).toBeGreaterThan(50);
    const seen = (k: number) =>
      (standalone as unknown as { weights: { get(k: number): number } }).weights.get(k);
    for (const k of [...a, ...b]) expect(table.weight(k)).toBe(seen(k));
  });
});
