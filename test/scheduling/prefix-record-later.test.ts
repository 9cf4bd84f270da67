import { describe, expect, test } from "bun:test";
import { builtinRegistry } from "../../plugins/index.ts";
import { seededRandom } from "../../src/clock.ts";
import { InFlight } from "../../src/endpoints/inflight.ts";
import { createScheduler } from "../../src/scheduling/framework/index.ts";
import { hashPrefix } from "../../src/scheduling/prefix/hashes.ts";
import { PrefixIndex } from "../../src/scheduling/prefix/prefix-index.ts";
import { fixedClock, pods, prompt, request } from "./helpers.ts";

/**
 * A pick's blocks are recorded after the decision returns (`PrefixIndex.recordLater`: a
 * microtask, or the next read of the index, whichever comes first), and nothing that reads
 * the index can tell: every answer is the one an index that recorded at once gives.
 */
describe("prefix index: picks recorded after the decision", () => {
  test("a decision returns with its pick not yet recorded; a microtask later it is", async () => {
    const s = createScheduler({
      registry: builtinRegistry(),
      inflight: new InFlight(),
      clock: fixedClock(),
      random: seededRandom(1),
    });
    const eps = pods(4);
    const r = s.decide(request({ prompt: prompt(1, 64 * 40) }), eps);
    expect(r.kind).toBe("picked");
    expect(s.prefixIndex.deferred).toBe(1);
    await Promise.resolve();
    expect(s.prefixIndex.deferred).toBe(0);
    expect(s.prefixIndex.stats().entries).toBe(40);
  });

  test("the next decision in the same tick sees the previous pick (the same prompt goes to the same pod)", () => {
    const s = createScheduler({
      registry: builtinRegistry(),
      inflight: new InFlight(),
      clock: fixedClock(),
      random: seededRandom(3),
    });
    const eps = pods(8);
    const req = request({ prompt: prompt(7, 64 * 100) });
    const first = s.decide(req, eps);
    const second = s.decide(req, eps);
    if (first.kind !== "picked" || second.kind !== "picked") throw new Error("no pick");
    expect(second.endpoints[0]!.name).toBe(first.endpoints[0]!.name);
    const m = s.prefixIndex.match(
      hashPrefix(prompt(7, 64 * 100), { model: "m", blockChars: 64, maxBlocks: 256 }).keys,
    );
    expect(m.get(first.endpoints[0]!.name)).toBe(100);
  });

  test("random records, deferred or not, interleaved with every read: the same answers as recording at once", () => {
    const r = seededRandom(11);
    const later = new PrefixIndex();
    const now = new PrefixIndex();
    const names = ["a", "b", "c", "d", "e"];
    const chains = Array.from({ length: 12 }, (_, c) =>
      Array.from({ length: 1 + Math.floor(r() * 30) }, (_, i) => c * 1000 + i + 1),
    );
    for (let step = 0; step < 3000; step++) {
      const op = r();
      const keys = chains[Math.floor(r() * chains.length)]!.slice(0, 1 + Math.floor(r() * 30));
      const name = names[Math.floor(r() * names.length)]!;
      const capacity = 20 + Math.floor(r() * 60);
      if (op < 0.45) {
        later.recordLater(name, keys, capacity, true);
        now.record(name, keys, capacity);
        now.prompts.record(keys);
      } else if (op < 0.55) {
        later.record(name, keys, capacity);
        now.record(name, keys, capacity);
      } else if (op < 0.75) {
        const a = later.matchLengths(keys);
        const b = now.match(keys);
        for (const n of names) expect(a.get(n)).toBe(b.get(n));
      } else if (op < 0.85) {
        expect(later.prompts.distinctive(keys)).toBe(now.prompts.distinctive(keys));
      } else if (op < 0.88) {
        later.removeEndpoint(name);
        now.removeEndpoint(name);
      } else if (op < 0.95) {
        expect(later.stats()).toEqual(now.stats());
      } else {
        expect(later.size).toBe(now.size);
        expect(later.prompts.size).toBe(now.prompts.size);
      }
    }
    expect(later.stats()).toEqual(now.stats());
  });

  test("a match read after its own pick was deferred still answers as of the match", () => {
    const index = new PrefixIndex();
    index.record("a", [1, 2, 3]);
    const m = index.matchLengths([1, 2, 3, 4]);
    index.recordLater("b", [1, 2, 3, 4], 100, true);
    expect(m.get("a")).toBe(3);
    expect(m.get("b")).toBeUndefined();
    expect(index.deferred).toBe(1); // reading the match did not apply the pick
    expect(index.match([1, 2, 3, 4]).get("b")).toBe(4);
  });
});
