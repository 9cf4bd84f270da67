import { describe, expect, test } from "bun:test";
import { maxScorePicker } from "../../plugins/max-score-picker.ts";
import { seededRandom } from "../../src/clock.ts";
import type { Endpoint } from "../../src/endpoints/types.ts";
import type { Filter, Picker, SchedulerProfile, Scorer } from "../../src/scheduling/framework/interfaces.ts";
import { type PluginObserver, runProfile } from "../../src/scheduling/framework/runner.ts";
import { context, fixedClock, pods } from "./helpers.ts";

/**
 * Plugin timing by chained clock readings: each call is charged exactly the time spent
 * inside it (work of the runner between calls, such as adding up the scores, is charged
 * to nobody), whether the observer offers a per-plugin recorder or only the plain call.
 */
describe("plugin timing", () => {
  const clock = fixedClock();
  /** A plugin that takes `ms` of the fake clock. */
  const spend = (ms: number) => {
    clock.t += ms;
  };
  const filter: Filter = {
    type: "slow-filter",
    name: "f",
    filter: (_c, e) => {
      spend(1);
      return e;
    },
  };
  const scorer = (name: string, ms: number): Scorer => ({
    type: "slow-scorer",
    name,
    score: (_c, eps: readonly Endpoint[]) => {
      spend(ms);
      return eps.map(() => 1);
    },
  });
  const inner = maxScorePicker({ random: seededRandom(1), params: { maxNumOfEndpoints: 1 } });
  const picker: Picker = {
    type: "slow-picker",
    name: "p",
    pick: (c, scored) => {
      spend(8);
      return inner.pick(c, scored);
    },
  };
  const profile: SchedulerProfile = {
    name: "default",
    filters: [filter],
    scorers: [
      { scorer: scorer("a", 2), weight: 1 },
      { scorer: scorer("b", 4), weight: 2 },
    ],
    picker,
  };
  const want = [
    ["Filter", "slow-filter", "f", 0.001],
    ["Scorer", "slow-scorer", "a", 0.002],
    ["Scorer", "slow-scorer", "b", 0.004],
    ["Picker", "slow-picker", "p", 0.008],
  ];

  test("a plain observer: one observation per call, each the call's own time", () => {
    const seen: unknown[] = [];
    const observe: PluginObserver = (point, type, name, s) => seen.push([point, type, name, s]);
    for (let k = 0; k < 3; k++) runProfile(context({ clock }), profile, pods(3), observe);
    expect(seen).toEqual([...want, ...want, ...want]);
  });

  test("an observer with recorders: resolved once per plugin, the same observations", () => {
    const seen: unknown[] = [];
    let resolved = 0;
    const observe: PluginObserver = Object.assign(
      () => {
        throw new Error("the recorder should be used");
      },
      {
        recorder: (point: string, type: string, name: string) => {
          resolved++;
          return (s: number) => seen.push([point, type, name, s]);
        },
      },
    );
    for (let k = 0; k < 3; k++) runProfile(context({ clock }), profile, pods(3), observe);
    expect(seen).toEqual([...want, ...want, ...want]);
    expect(resolved).toBe(4);
  });

  test("a throwing scorer is still timed", () => {
    const seen: unknown[] = [];
    const bad: Scorer = {
      type: "bad",
      name: "bad",
      score: () => {
        spend(16);
        throw new Error("boom");
      },
    };
    expect(() =>
      runProfile(context({ clock }), { ...profile, scorers: [{ scorer: bad, weight: 1 }] }, pods(2), (...a) =>
        seen.push(a),
      ),
    ).toThrow("boom");
    expect(seen).toEqual([
      ["Filter", "slow-filter", "f", 0.001],
      ["Scorer", "bad", "bad", 0.016],
    ]);
  });
});
