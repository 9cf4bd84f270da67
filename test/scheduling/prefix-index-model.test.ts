import { describe, expect, test } from "bun:test";
import { seededRandom } from "../../src/clock.ts";
import { PromptStatistics, type PromptWeights } from "../../src/scheduling/prefix/distinctive.ts";
import { PrefixIndex } from "../../src/scheduling/prefix/prefix-index.ts";

/**
 * The prefix index against a plain model of what it means (GIE's indexer): per endpoint an
 * LRU of block keys (a Map in recency order) bounded by the capacity, a key's holders, the
 * least recently recorded evicted first, a match = leading blocks held without a gap; and
 * the prompt statistics over weights kept only for keys some endpoint holds. Random record,
 * deferred record, match, distinctive and removal sequences must answer alike.
 */

class Model {
  readonly lrus = new Map<string, Map<number, true>>();
  readonly weights = new Map<number, number>();
  readonly prompts: PromptStatistics;

  constructor() {
    const held = (key: number) => [...this.lrus.values()].some((l) => l.has(key));
    const weights: PromptWeights = {
      get: (key) => this.weights.get(key) ?? 0,
      add: (key, w) => {
        if (held(key)) this.weights.set(key, (this.weights.get(key) ?? 0) + w);
      },
      forget: (key) => this.weights.delete(key),
      divideAll: (w) => {
        for (const [k, v] of this.weights) this.weights.set(k, v / w);
      },
      get size() {
        return 0;
      },
    };
    this.prompts = new PromptStatistics(0.5, 4096, weights);
  }

  private dropIfUnheld(key: number): void {
    if (![...this.lrus.values()].some((l) => l.has(key))) this.weights.delete(key);
  }

  record(ep: string, keys: readonly number[], capacity: number): void {
    if (keys.length === 0 || capacity <= 0) return;
    const lru = this.lrus.get(ep) ?? new Map<number, true>();
    this.lrus.set(ep, lru);
    for (let i = keys.length - 1; i >= 0; i--) {
      lru.delete(keys[i]!);
      lru.set(keys[i]!, true);
    }
    while (lru.size > capacity) {
      const oldest = lru.keys().next().value as number;
      lru.delete(oldest);
      this.dropIfUnheld(oldest);
    }
  }

  remove(ep: string): void {
    const lru = this.lrus.get(ep);
    if (!lru) return;
    this.lrus.delete(ep);
    for (const k of lru.keys()) this.dropIfUnheld(k);
  }

  match(keys: readonly number[]): Map<string, number> {
    const out = new Map<string, number>();
    for (const [ep, lru] of this.lrus) {
      let n = 0;
      while (n < keys.length && lru.has(keys[n]!)) n++;
      if (n > 0) out.set(ep, n);
    }
    // The index walks block by block and stops at the first block no endpoint extends.
    let longest = 0;
    for (let i = 0; i < keys.length; i++) {
      if (![...out.values()].some((n) => n > i)) break;
      longest = i + 1;
    }
    for (const [ep, n] of out) out.set(ep, Math.min(n, longest));
    return out;
  }

  size(): number {
    const keys = new Set<number>();
    for (const lru of this.lrus.values()) for (const k of lru.keys()) keys.add(k);
    return keys.size;
  }

  entries(): number {
    let n = 0;
    for (const lru of this.lrus.values()) n += lru.size;
    return n;
  }
}

const sorted = (m: Map<string, number>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1));

describe("prefix index against a plain model", () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    test(`seed ${seed}: random records, matches, statistics and removals agree`, async () => {
      const random = seededRandom(seed);
      const int = (n: number) => Math.floor(random() * n);
      const index = new PrefixIndex();
      const model = new Model();
      const eps = ["a", "b", "c", "d"];
      // A few prompt families sharing leading blocks, new prompts, repeats of recent ones.
      const recent: number[][] = [];
      let fresh = 1_000_000;
      const prompt = (): number[] => {
        const r = random();
        if (r < 0.3 && recent.length > 0) return recent[int(recent.length)]!.slice(0, 1 + int(40));
        if (r < 0.6) {
          const family = int(5) * 1000;
          const out = Array.from({ length: 1 + int(30) }, (_, i) => family + i);
          for (let i = int(out.length); i < out.length; i++) out[i] = fresh++;
          return out;
        }
        if (r < 0.65) return [7, 7, 8, 7]; // a key twice in one prompt
        return Array.from({ length: 1 + int(40) }, () => fresh++);
      };
      for (let step = 0; step < 1500; step++) {
        const keys = prompt();
        recent.push(keys);
        if (recent.length > 20) recent.shift();
        const ep = eps[int(eps.length)]!;
        const capacity = random() < 0.02 ? int(5) : 30 + int(30);
        const op = random();
        if (op < 0.03) {
          index.removeEndpoint(ep);
          model.remove(ep);
          continue;
        }
        expect(sorted(index.match(keys))).toEqual(sorted(model.match(keys)));
        expect(index.prompts.distinctive(keys)).toBe(model.prompts.distinctive(keys));
        const asPrompt = random() < 0.8;
        if (op < 0.5) {
          index.recordLater(ep, keys, capacity, asPrompt);
          if (random() < 0.5) await Promise.resolve(); // applied by the microtask, else by the next read
        } else {
          index.record(ep, keys, capacity);
          if (asPrompt) index.prompts.record(keys);
        }
        model.record(ep, keys, capacity);
        if (asPrompt) model.prompts.record(keys);
        if (step % 50 === 0) {
          expect(index.stats()).toMatchObject({ size: model.size(), entries: model.entries() });
          for (const k of [...model.weights.keys()].slice(0, 50))
            expect(index.prompts.distinctive([k])).toBe(model.prompts.distinctive([k]));
        }
      }
      expect(index.stats()).toMatchObject({ size: model.size(), entries: model.entries() });
    });
  }
});
