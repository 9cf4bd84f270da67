import { describe, expect, test } from "bun:test";
import { DeferredWeights, PENDING_MAX } from "../../src/scheduling/prefix/deferred-weights.ts";

/**
 * The key table's deferred weight adds on their own (deferred-weights.ts), on shards laid
 * out as the table's (4 doubles a slot, the weight at offset 2). Each applied result is
 * checked bit for bit against the same adds made one call at a time (as
 * `KeyRecords.addWeightsAt`), with adds whose sum depends on their order: 1 + 2^-53 + 2^-53
 * is 1 one add at a time, 1 + 2^-52 summed first; 1 + 2^-53 + 2^-53 + 0.3 + 0.3 is 1.6 call
 * by call, 1.6000000000000003 when a twice-placed slot takes its adds place by place.
 */

const SLOT = 4;
const WEIGHT = 2;
const TINY = 2 ** -53;

/** Two shards of 8 slots, with the weights given (slot j of shard s at `start[s][j]`). */
function shardsOf(start: number[][]): Float64Array[] {
  return start.map((ws) => {
    const slots = new Float64Array(8 * SLOT);
    ws.forEach((w, j) => {
      slots[j * SLOT + WEIGHT] = w;
    });
    return slots;
  });
}

/** Places: [shard, slot index] pairs (slot -1: an absent key). */
function placesOf(places: [number, number][]) {
  const shardAt = new Int32Array(places.map(([s]) => s));
  const slotAt = new Int32Array(places.map(([, j]) => (j < 0 ? -1 : j * SLOT)));
  return { shardAt, slotAt, keys: places.length };
}

/** The adds made one call at a time, each to every place in turn; returns the slots that weighed 0 before. */
function atOnce(shards: Float64Array[], p: ReturnType<typeof placesOf>, ws: number[]): number {
  let weighed = 0;
  for (const w of ws)
    for (let j = 0; j < p.keys; j++) {
      if (p.slotAt[j]! < 0) continue;
      const slots = shards[p.shardAt[j]!]!;
      if (slots[p.slotAt[j]! + WEIGHT] === 0) weighed++;
      slots[p.slotAt[j]! + WEIGHT]! += w;
    }
  return weighed;
}

/** The same adds kept in a DeferredWeights and applied once; returns what `applyTo` returned. */
function deferred(shards: Float64Array[], p: ReturnType<typeof placesOf>, ws: number[]): number {
  const d = new DeferredWeights();
  for (const w of ws) {
    expect(d.fits(p.shardAt, p.slotAt, p.keys)).toBe(true);
    d.keep(p.shardAt, p.slotAt, p.keys, w);
  }
  expect(d.size).toBe(ws.length);
  const weighed = d.applyTo(shards, WEIGHT);
  expect(d.size).toBe(0);
  return weighed;
}

const weightsOf = (shards: Float64Array[]) =>
  shards.map((s) => Array.from(s.filter((_, i) => i % SLOT === WEIGHT)));

describe("deferred weight adds", () => {
  test("applied in the order made, to the bit, skipping absent keys", () => {
    const start = [
      [1, 1, 0, 3],
      [1, 0.5, 0, 0],
    ];
    const p = placesOf([
      [0, 0],
      [1, 1],
      [0, 2],
      [1, -1],
      [0, 3],
      [1, 0],
    ]);
    const ws = [TINY, TINY, TINY, 0.3, TINY, 1];
    const want = shardsOf(start);
    const wantWeighed = atOnce(want, p, ws);
    const got = shardsOf(start);
    expect(deferred(got, p, ws)).toBe(wantWeighed);
    expect(wantWeighed).toBe(1); // shard 0 slot 2; shard 1's slots 2, 3 are not placed
    expect(weightsOf(got)).toEqual(weightsOf(want));
    expect(got[0]![WEIGHT]).toBe(2.3000000000000003); // the adds summed first: 2.3000000000000007
  });

  test("a slot placed twice gets each call's add at both places in turn", () => {
    const start = [[1, 0, 5]];
    const p = placesOf([
      [0, 0],
      [0, 1],
      [0, 0],
      [0, 2],
      [0, 1],
    ]);
    const ws = [TINY, 0.3];
    const want = shardsOf(start);
    const wantWeighed = atOnce(want, p, ws);
    const got = shardsOf(start);
    expect(deferred(got, p, ws)).toBe(wantWeighed);
    expect(wantWeighed).toBe(1); // slot 1, once though placed twice
    expect(got[0]![WEIGHT]).toBe(1.6); // place by place it would be 1.6000000000000003
    expect(weightsOf(got)).toEqual(weightsOf(want));
    // No slot is left marked, and the table's other slots are untouched.
    expect(weightsOf(got)[0]!.some(Number.isNaN)).toBe(false);
  });

  test("at most PENDING_MAX adds, for one set of places", () => {
    const p = placesOf([
      [0, 0],
      [1, 3],
    ]);
    const d = new DeferredWeights();
    // Nothing kept: any places fit.
    expect(d.fits(new Int32Array(1), new Int32Array(1), 1)).toBe(true);
    for (let c = 0; c < PENDING_MAX; c++) {
      expect(d.fits(p.shardAt, p.slotAt, p.keys)).toBe(true);
      d.keep(p.shardAt, p.slotAt, p.keys, TINY);
    }
    expect(d.size).toBe(PENDING_MAX);
    expect(d.fits(p.shardAt, p.slotAt, p.keys)).toBe(false);
    const shards = shardsOf([[1], [0, 0, 0, 2]]);
    d.applyTo(shards, WEIGHT);
    expect(shards[0]![WEIGHT]).toBe(1);
    expect(shards[1]![3 * SLOT + WEIGHT]).toBe(2);
    // Kept adds: only the same arrays and count fit (equal contents are not the same places).
    d.keep(p.shardAt, p.slotAt, p.keys, 1);
    expect(d.fits(p.shardAt, p.slotAt, p.keys)).toBe(true);
    expect(d.fits(p.shardAt.slice(), p.slotAt, p.keys)).toBe(false);
    expect(d.fits(p.shardAt, p.slotAt.slice(), p.keys)).toBe(false);
    expect(d.fits(p.shardAt, p.slotAt, 1)).toBe(false);
  });

  test("places beyond the scratch's first size", () => {
    const n = 300;
    const start = [Array.from({ length: n }, (_, j) => j % 3)];
    const slots = (s: number[]) => {
      const a = new Float64Array(n * SLOT);
      s.forEach((w, j) => {
        a[j * SLOT + WEIGHT] = w;
      });
      return [a];
    };
    const p = placesOf(Array.from({ length: n }, (_, j): [number, number] => [0, n - 1 - j]));
    const ws = [TINY, 0.3, TINY];
    const want = slots(start[0]!);
    const got = slots(start[0]!);
    expect(deferred(got, p, ws)).toBe(atOnce(want, p, ws));
    expect(weightsOf(got)).toEqual(weightsOf(want));
  });
});
