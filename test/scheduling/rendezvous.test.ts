import { describe, expect, test } from "bun:test";
import { maxScorePicker } from "../../plugins/max-score-picker.ts";
import { seededRandom } from "../../src/clock.ts";
import { rendezvousOrder, rendezvousWeight } from "../../src/scheduling/prefix/rendezvous.ts";
import { fmix64, xxh64Hex } from "../../src/scheduling/prefix/xxhash64.ts";

const MASK = (1n << 64n) - 1n;

/** MurmurHash3's fmix64 as its reference writes it, in BigInt. */
function fmix64Ref(x: bigint): bigint {
  let k = x & MASK;
  k ^= k >> 33n;
  k = (k * 0xff51afd7ed558ccdn) & MASK;
  k ^= k >> 33n;
  k = (k * 0xc4ceb9fe1a85ec53n) & MASK;
  k ^= k >> 33n;
  return k;
}

const word = (random: () => number) => Math.floor(random() * 2 ** 32) >>> 0;
const big = (hi: number, lo: number) => (BigInt(hi) << 32n) | BigInt(lo);
const pods = (n: number) => Array.from({ length: n }, (_, i) => `10.0.${i >> 8}.${i & 255}:8000`);

describe("fmix64", () => {
  test("matches the BigInt reference, as the rounded unsigned value", () => {
    const random = seededRandom(7);
    const cases: [number, number][] = [
      [0, 0],
      [0, 1],
      [0xffffffff, 0xffffffff],
      [0x80000000, 0],
      [1, 0],
    ];
    for (let i = 0; i < 2000; i++) cases.push([word(random), word(random)]);
    for (const [hi, lo] of cases) expect(fmix64(hi, lo)).toBe(Number(fmix64Ref(big(hi, lo))));
  });
});

describe("rendezvousWeight", () => {
  test("is fmix64 of the key XOR the name's xxHash64", () => {
    const random = seededRandom(3);
    for (const name of [...pods(20), "pod-a", "vllm-llama-3-8b-7f9c4d-abcde", "ünïcödé:8000"]) {
      const h = BigInt(`0x${xxh64Hex(name)}`);
      for (let i = 0; i < 20; i++) {
        const hi = word(random);
        const lo = word(random);
        expect(rendezvousWeight(hi, lo, name)).toBe(Number(fmix64Ref(big(hi, lo) ^ h)));
      }
    }
  });

  test("spreads keys evenly over 64 endpoints (chi-square, 12,800 keys)", () => {
    const names = pods(64);
    const wins = new Array<number>(64).fill(0);
    const random = seededRandom(11);
    const keys = 12_800;
    for (let k = 0; k < keys; k++) {
      const hi = word(random);
      const lo = word(random);
      let best = 0;
      let bestW = -1;
      for (let i = 0; i < names.length; i++) {
        const w = rendezvousWeight(hi, lo, names[i]!);
        if (w > bestW) {
          bestW = w;
          best = i;
        }
      }
      wins[best]!++;
    }
    const expected = keys / names.length;
    const chi = wins.reduce((a, w) => a + (w - expected) ** 2 / expected, 0);
    // 63 degrees of freedom: 103.4 is the 0.1 % tail. A weight that ignores the key or the
    // name puts every key on one endpoint (chi ≈ 806,000).
    expect(chi).toBeLessThan(103.4);
    expect(Math.min(...wins)).toBeGreaterThan(0);
  });

  test("keys that differ in one bit still land apart (the second-best follows the key too)", () => {
    const names = pods(16);
    const firsts = new Set<string>();
    const pairs = new Set<string>();
    for (let bit = 0; bit < 64; bit++) {
      const hi = bit >= 32 ? 1 << (bit - 32) : 0;
      const lo = bit < 32 ? 1 << bit : 0;
      const order = rendezvousOrder(names, (n) => n, { hi: hi >>> 0, lo: lo >>> 0 });
      firsts.add(order[0]!);
      pairs.add(`${order[0]} ${order[1]}`);
    }
    expect(firsts.size).toBeGreaterThan(10);
    expect(pairs.size).toBeGreaterThan(40);
  });

  test("removing an endpoint moves only the keys it won; adding one takes keys only for itself", () => {
    const names = pods(24);
    const random = seededRandom(5);
    const key = () => ({ hi: word(random), lo: word(random) });
    const removed = names[9]!;
    const fewer = names.filter((n) => n !== removed);
    const added = "10.9.9.9:8000";
    const more = [...names, added];
    let moved = 0;
    for (let k = 0; k < 2000; k++) {
      const kk = key();
      const before = rendezvousOrder(names, (n) => n, kk)[0]!;
      const after = rendezvousOrder(fewer, (n) => n, kk)[0]!;
      if (before !== removed) expect(after).toBe(before);
      else moved++;
      const grown = rendezvousOrder(more, (n) => n, kk)[0]!;
      if (grown !== added) expect(grown).toBe(before);
    }
    expect(moved).toBeGreaterThan(0);
  });
});

/** A decision's context whose prompt has one block, hashed to `words`, and no prefix match. */
const keyed = (words: Uint32Array) =>
  ({
    get: () => undefined,
    inflight: { get: () => 0 },
    prefixHashes: () => ({ count: 1, words }),
  }) as never;

/** An endpoint as the picker reads it, idle. */
const idle = (name: string) => ({ name, metrics: { runningRequests: 0, waitingQueueSize: 0 } }) as never;

describe("max-score-picker's band order", () => {
  test("is the rendezvous order, whatever names a position held in the picker's earlier decisions", () => {
    const all = pods(12);
    const random = seededRandom(9);
    const picker = maxScorePicker({ random, params: { maxNumOfEndpoints: 12 } });
    for (let d = 0; d < 300; d++) {
      // A random subset in a random order: positions change names from one decision to the next.
      const names = all.filter(() => random() < 0.7).sort(() => random() - 0.5);
      if (names.length < 2) continue;
      const words = new Uint32Array([word(random), word(random)]);
      const ctx = keyed(words);
      const scored = names.map((name) => ({ endpoint: idle(name), score: 1 }));
      const order = picker.pick(ctx, scored).map((e) => e.name);
      expect(order).toEqual(rendezvousOrder(names, (n) => n, { hi: words[0]!, lo: words[1]! }));
    }
  });

  test("is the rendezvous order over a frozen candidates array (its names tabled once), reused or not", () => {
    const random = seededRandom(13);
    const picker = maxScorePicker({ random, params: { maxNumOfEndpoints: 12 } });
    const endpointsOf = (names: string[]) => Object.freeze(names.map(idle));
    const arrays = [pods(12), pods(12).reverse(), pods(12).slice(3, 10)].map((names) => ({
      names,
      endpoints: endpointsOf(names),
    }));
    for (let d = 0; d < 300; d++) {
      const { names, endpoints } = arrays[Math.floor(random() * arrays.length)]!;
      const words = new Uint32Array([word(random), word(random)]);
      const ctx = keyed(words);
      const totals = new Float64Array(names.length).fill(1);
      const order = picker.pickScores!(ctx, endpoints, totals).map((e) => e.name);
      expect(order).toEqual(rendezvousOrder(names, (n) => n, { hi: words[0]!, lo: words[1]! }));
    }
  });
});
