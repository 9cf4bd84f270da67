import { describe, expect, test } from "bun:test";
import { maxScorePicker } from "../../plugins/max-score-picker.ts";
import { seededRandom } from "../../src/clock.ts";
import type { Endpoint } from "../../src/endpoints/types.ts";
import type {
  Filter,
  Picker,
  SchedulerProfile,
  ScoreResult,
  Scorer,
} from "../../src/scheduling/framework/interfaces.ts";
import { clamp01, runProfile } from "../../src/scheduling/framework/runner.ts";
import { context, endpoint, fixedClock, pods } from "./helpers.ts";

const scorer = (name: string, f: (eps: readonly Endpoint[]) => ScoreResult): Scorer => ({
  type: "test-scorer",
  name,
  score: (_ctx, eps) => f(eps),
});
const fixed = (name: string, values: (number | undefined)[]) => scorer(name, () => values);
const picker = (): Picker => maxScorePicker({ random: seededRandom(1), params: { maxNumOfEndpoints: 10 } });
const profile = (p: Partial<SchedulerProfile>): SchedulerProfile => ({
  name: "p",
  filters: [],
  scorers: [],
  picker: picker(),
  ...p,
});
const dropAll: Filter = { type: "drop-all", name: "drop-all", filter: () => [] };

describe("runner: score = sum(clamp01(score) * weight)", () => {
  test.each([
    { x: 5, want: 1 },
    { x: -1, want: 0 },
    { x: 0.3, want: 0.3 },
    { x: Number.NaN, want: 0 },
    { x: undefined, want: 0 },
    { x: Number.POSITIVE_INFINITY, want: 1 },
  ])("clamp01($x) = $want", ({ x, want }) => {
    expect(clamp01(x)).toBe(want);
  });

  test.each<{ case: string; values: (number | undefined)[]; weight: number; want: number[] }>([
    { case: "a scorer returning 5 counts as 1", values: [5, 0.5], weight: 1, want: [1, 0.5] },
    { case: "a scorer returning -1 counts as 0", values: [-1, 0.5], weight: 1, want: [0, 0.5] },
    { case: "undefined counts as 0", values: [undefined, 0.5], weight: 1, want: [0, 0.5] },
    { case: "weight multiplies", values: [0.5, 1], weight: 3, want: [1.5, 3] },
    { case: "weight 0 silences", values: [0.5, 1], weight: 0, want: [0, 0] },
  ])("$case", ({ values, weight, want }) => {
    const eps = pods(2);
    const r = runProfile(context(), profile({ scorers: [{ scorer: fixed("s", values), weight }] }), eps);
    if (r.kind !== "picked") throw new Error(r.kind);
    expect(r.scored.map((s) => s.score)).toEqual(want);
  });

  test("weights combine scorers, and the picker orders by the total", () => {
    const eps = pods(3);
    const r = runProfile(
      context(),
      profile({
        scorers: [
          { scorer: fixed("a", [1, 0, 0.5]), weight: 1 },
          { scorer: fixed("b", [0, 1, 0.5]), weight: 2 },
        ],
      }),
      eps,
    );
    if (r.kind !== "picked") throw new Error(r.kind);
    expect(r.scored.map((s) => s.score)).toEqual([1, 2, 1.5]);
    expect(r.endpoints.map((e) => e.name)).toEqual(["pod-1", "pod-2", "pod-0"]);
  });

  test("a Map result is read by endpoint; a missing endpoint counts as 0", () => {
    const eps = pods(2);
    const s = scorer("m", (list) => new Map([[list[1]!, 0.7]]));
    const r = runProfile(context(), profile({ scorers: [{ scorer: s, weight: 1 }] }), eps);
    if (r.kind !== "picked") throw new Error(r.kind);
    expect(r.scored.map((x) => x.score)).toEqual([0, 0.7]);
  });
});

describe("runner: outcomes", () => {
  test("no candidates -> no-endpoints (no plugin runs)", () => {
    let calls = 0;
    const s = scorer("s", (l) => {
      calls++;
      return l.map(() => 1);
    });
    expect(runProfile(context(), profile({ scorers: [{ scorer: s, weight: 1 }] }), [])).toEqual({
      kind: "no-endpoints",
    });
    expect(calls).toBe(0);
  });

  test("filters removing everything -> saturated, later plugins skipped", () => {
    let calls = 0;
    const s = scorer("s", (l) => {
      calls++;
      return l.map(() => 1);
    });
    const r = runProfile(
      context(),
      profile({ filters: [dropAll], scorers: [{ scorer: s, weight: 1 }] }),
      pods(3),
    );
    expect(r).toEqual({ kind: "saturated", profile: "p" });
    expect(calls).toBe(0);
  });

  test("filters run in order, each on the previous one's output", () => {
    const seen: string[][] = [];
    const keepFirst = (n: number): Filter => ({
      type: "keep",
      name: `keep-${n}`,
      filter: (_c, eps) => {
        seen.push(eps.map((e) => e.name));
        return eps.slice(0, n);
      },
    });
    const r = runProfile(context(), profile({ filters: [keepFirst(3), keepFirst(1)] }), pods(4));
    expect(seen).toEqual([
      ["pod-0", "pod-1", "pod-2", "pod-3"],
      ["pod-0", "pod-1", "pod-2"],
    ]);
    expect(r.kind === "picked" && r.endpoints.map((e) => e.name)).toEqual(["pod-0"]);
  });

  test("a picker returning nothing -> saturated", () => {
    const empty: Picker = { type: "none", name: "none", pick: () => [] };
    expect(runProfile(context(), profile({ picker: empty }), pods(2)).kind).toBe("saturated");
  });

  test("every plugin call is timed with its type and name", () => {
    const clock = fixedClock();
    const slow = scorer("slow", (l) => {
      clock.t += 3;
      return l.map(() => 1);
    });
    const observed: [string, string, string, number][] = [];
    runProfile(
      context({ clock }),
      profile({
        filters: [{ type: "keep-all", name: "k", filter: (_c, e) => e }],
        scorers: [{ scorer: slow, weight: 1 }],
      }),
      [endpoint("a")],
      (point, type, name, seconds) => observed.push([point, type, name, seconds]),
    );
    expect(observed).toEqual([
      ["Filter", "keep-all", "k", 0],
      ["Scorer", "test-scorer", "slow", 0.003],
      ["Picker", "max-score-picker", "max-score-picker", 0],
    ]);
  });
});
