import { describe, expect, test } from "bun:test";
import { seededRandom } from "../../src/clock.ts";
import { RewriteTable } from "../../src/rewrite/index.ts";
import { doc, scripted } from "./fixtures.ts";

const DRAWS = 100_000;

function shares(table: RewriteTable, model: string, seed: number): Map<string, number> {
  const random = seededRandom(seed);
  const counts = new Map<string, number>();
  for (let i = 0; i < DRAWS; i++) {
    const t = table.resolve(model, random)!.targetModel;
    counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  return new Map([...counts].map(([k, n]) => [k, n / DRAWS]));
}

describe("weighted split", () => {
  test.each([
    {
      case: "90/10",
      to: [
        ["stable", 90],
        ["canary", 10],
      ] as [string, number][],
      seed: 1,
    },
    {
      case: "3-way 50/30/20",
      to: [
        ["a", 50],
        ["b", 30],
        ["c", 20],
      ] as [string, number][],
      seed: 7,
    },
    {
      case: "3-way large weights",
      to: [
        ["a", 1_000_000],
        ["b", 500_000],
        ["c", 1],
      ] as [string, number][],
      seed: 42,
    },
    { case: "uniform when unweighted", to: [["a"], ["b"], ["c"], ["d"]] as [string, number?][], seed: 3 },
  ])("$case: 100,000 seeded draws land within 1 point of every share", ({ to, seed }) => {
    const table = RewriteTable.build([doc("split", [{ match: ["m"], to }])]);
    const got = shares(table, "m", seed);
    const sum = to.reduce((s, [, w]) => s + (w ?? 1), 0);
    for (const [model, w] of to) {
      expect(Math.abs((got.get(model) ?? 0) - (w ?? 1) / sum)).toBeLessThan(0.01);
    }
  });

  test.each([
    { x: 0, want: "stable" },
    { x: 0.8999, want: "stable" },
    { x: 0.9, want: "canary" },
    { x: 0.9999999, want: "canary" },
    { x: 1, want: "canary" }, // a faulty source returning 1 is clamped to the last target
  ])("random() = $x picks $want (cumulative 90, 100)", ({ x, want }) => {
    const table = RewriteTable.build([
      doc("split", [
        {
          match: ["m"],
          to: [
            ["stable", 90],
            ["canary", 10],
          ],
        },
      ]),
    ]);
    expect(table.resolve("m", scripted(x))?.targetModel).toBe(want);
  });

  test.each([
    { x: 0, want: "a" },
    { x: 0.26, want: "b" },
    { x: 0.5, want: "c" },
    { x: 0.99, want: "d" },
  ])("uniform: random() = $x picks $want", ({ x, want }) => {
    const table = RewriteTable.build([doc("u", [{ to: [["a"], ["b"], ["c"], ["d"]] }])]);
    expect(table.resolve("any", scripted(x))?.targetModel).toBe(want);
  });

  test("one random() call per matched resolve, none when nothing matches", () => {
    const table = RewriteTable.build([
      doc("r", [
        { match: ["one"], to: [["only"]] },
        {
          match: ["two"],
          to: [
            ["x", 1],
            ["y", 2],
          ],
        },
      ]),
    ]);
    const random = scripted(0.5);
    table.resolve("one", random);
    table.resolve("two", random);
    expect(random.calls).toBe(2);
    table.resolve("nope", random);
    expect(random.calls).toBe(2);
  });

  test("reproducible with the same seed", () => {
    const table = RewriteTable.build([
      doc("r", [
        {
          to: [
            ["a", 3],
            ["b", 5],
            ["c", 2],
          ],
        },
      ]),
    ]);
    const run = (seed: number) => {
      const random = seededRandom(seed);
      return Array.from({ length: 50 }, () => table.resolve("m", random)?.targetModel);
    };
    expect(run(99)).toEqual(run(99));
  });
});
