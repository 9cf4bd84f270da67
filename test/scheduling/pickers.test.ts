import { describe, expect, test } from "bun:test";
import { maxScorePicker } from "../../plugins/max-score-picker.ts";
import { randomPicker } from "../../plugins/random-picker.ts";
import { roundRobinPicker } from "../../plugins/round-robin-picker.ts";
import { weightedRandomPicker } from "../../plugins/weighted-random-picker.ts";
import { seededRandom } from "../../src/clock.ts";
import type { ScoredEndpoint } from "../../src/scheduling/framework/interfaces.ts";
import { context, endpoint, prompt, request } from "./helpers.ts";

const scored = (scores: number[]): ScoredEndpoint[] =>
  scores.map((score, i) => ({ endpoint: endpoint(`e${i}`), score }));
const names = (list: readonly { name: string }[]) => list.map((e) => e.name);

describe("max-score-picker", () => {
  test.each<{ case: string; scores: number[]; max: number; want: string[] }>([
    { case: "highest first", scores: [0.2, 0.9, 0.5], max: 1, want: ["e1"] },
    { case: "ordered fallbacks", scores: [0.2, 0.9, 0.5], max: 3, want: ["e1", "e2", "e0"] },
    { case: "max larger than candidates", scores: [0.2, 0.9], max: 5, want: ["e1", "e0"] },
    { case: "single candidate", scores: [0], max: 1, want: ["e0"] },
  ])("$case", ({ scores, max, want }) => {
    const picker = maxScorePicker({ random: seededRandom(1), params: { maxNumOfEndpoints: max } });
    expect(names(picker.pick(context(), scored(scores)))).toEqual(want);
  });

  test("exact ties are broken at random (no prompt block): every tied endpoint wins sometimes", () => {
    const picker = maxScorePicker({ random: seededRandom(7) });
    const wins = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const [e] = picker.pick(context(), scored([1, 1, 1, 0.5]));
      wins.set(e!.name, (wins.get(e!.name) ?? 0) + 1);
    }
    expect(wins.get("e3")).toBeUndefined();
    for (const n of ["e0", "e1", "e2"]) expect(wins.get(n)!).toBeGreaterThan(850);
  });

  test("with a prompt block, near-ties go to the rendezvous winner whatever the random source", () => {
    const ctxFor = () => context({ request: request({ prompt: prompt(11, 200) }) });
    const picks = new Set<string>();
    for (let seed = 1; seed <= 20; seed++) {
      const picker = maxScorePicker({ random: seededRandom(seed) });
      picks.add(picker.pick(ctxFor(), scored([1, 1.02, 0.99, 1.01]))[0]!.name);
    }
    expect(picks.size).toBe(1);
  });

  test("rendezvous only reorders endpoints within tieEpsilon of the best: load still wins", () => {
    for (let p = 0; p < 50; p++) {
      const ctx = context({ request: request({ prompt: prompt(100 + p, 128) }) });
      const picker = maxScorePicker({
        random: seededRandom(p),
        params: { tieEpsilon: 0.05, maxNumOfEndpoints: 4 },
      });
      const out = names(picker.pick(ctx, scored([2, 1.96, 1.5, 1.9])));
      expect(new Set(out.slice(0, 2))).toEqual(new Set(["e0", "e1"]));
      expect(out.slice(2)).toEqual(["e3", "e2"]);
    }
  });

  test("different prompts spread over the tied endpoints", () => {
    const picker = maxScorePicker({ random: seededRandom(3) });
    const seen = new Set<string>();
    for (let p = 0; p < 100; p++) {
      const ctx = context({ request: request({ prompt: prompt(p, 128) }) });
      seen.add(picker.pick(ctx, scored([1, 1, 1, 1]))[0]!.name);
    }
    expect(seen.size).toBe(4);
  });

  test("rendezvous: false keeps the random tie-break", () => {
    const seen = new Set<string>();
    for (let seed = 1; seed <= 40; seed++) {
      const picker = maxScorePicker({ random: seededRandom(seed), params: { rendezvous: false } });
      const ctx = context({ request: request({ prompt: prompt(5, 128) }) });
      seen.add(picker.pick(ctx, scored([1, 1, 1]))[0]!.name);
    }
    expect(seen.size).toBe(3);
  });
});

describe("random-picker", () => {
  test.each([
    { max: 1, n: 4 },
    { max: 3, n: 4 },
    { max: 9, n: 4 },
  ])("returns min(max, n) distinct endpoints (max $max of $n)", ({ max, n }) => {
    const picker = randomPicker({ random: seededRandom(2), maxNumOfEndpoints: max });
    const out = names(picker.pick(context(), scored(Array(n).fill(0))));
    expect(out.length).toBe(Math.min(max, n));
    expect(new Set(out).size).toBe(out.length);
  });

  test("uniform over endpoints, ignoring scores", () => {
    const picker = randomPicker({ random: seededRandom(5) });
    const wins = new Map<string, number>();
    for (let i = 0; i < 4000; i++) {
      const e = picker.pick(context(), scored([0, 1, 0.5, 0.1]))[0]!;
      wins.set(e.name, (wins.get(e.name) ?? 0) + 1);
    }
    for (const n of ["e0", "e1", "e2", "e3"]) expect(Math.abs(wins.get(n)! - 1000)).toBeLessThan(120);
  });
});

describe("weighted-random-picker: P(first) proportional to score", () => {
  test.each<{ scores: number[]; shares: number[] }>([
    { scores: [1, 3], shares: [0.25, 0.75] },
    { scores: [2, 1, 1], shares: [0.5, 0.25, 0.25] },
    { scores: [1, 0], shares: [1, 0] },
    { scores: [0, 0], shares: [0.5, 0.5] },
  ])("scores $scores -> shares $shares", ({ scores, shares }) => {
    const picker = weightedRandomPicker({ random: seededRandom(9) });
    const N = 20_000;
    const wins = new Array(scores.length).fill(0);
    for (let i = 0; i < N; i++) {
      const e = picker.pick(context(), scored(scores))[0]!;
      wins[Number(e.name.slice(1))]++;
    }
    for (const [i, w] of wins.entries()) expect(Math.abs(w / N - shares[i]!)).toBeLessThan(0.015);
  });

  test("fallbacks are drawn without replacement; zero scores come last", () => {
    const picker = weightedRandomPicker({ random: seededRandom(4), maxNumOfEndpoints: 4 });
    for (let i = 0; i < 200; i++) {
      const out = names(picker.pick(context(), scored([0, 1, 2, 0])));
      expect(new Set(out).size).toBe(4);
      expect(new Set(out.slice(0, 2))).toEqual(new Set(["e1", "e2"]));
    }
  });
});

describe("round-robin-picker", () => {
  test("cycles through endpoints; fallbacks follow in order", () => {
    const picker = roundRobinPicker({ maxNumOfEndpoints: 2 });
    const list = scored([0, 0, 0]);
    const got = Array.from({ length: 4 }, () => names(picker.pick(context(), list)));
    expect(got).toEqual([
      ["e0", "e1"],
      ["e1", "e2"],
      ["e2", "e0"],
      ["e0", "e1"],
    ]);
  });
});
