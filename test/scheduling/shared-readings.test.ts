import { describe, expect, test } from "bun:test";
import { builtinRegistry } from "../../plugins/index.ts";
import { maxScorePicker } from "../../plugins/max-score-picker.ts";
import { type Clock, seededRandom } from "../../src/clock.ts";
import { InFlight } from "../../src/endpoints/inflight.ts";
import type { Endpoint } from "../../src/endpoints/types.ts";
import { createScheduler } from "../../src/scheduling/framework/index.ts";
import type { Filter, Picker, SchedulerProfile, Scorer } from "../../src/scheduling/framework/interfaces.ts";
import {
  type PluginObserver,
  type ProfileTiming,
  runProfile,
  type ScorePicker,
} from "../../src/scheduling/framework/runner.ts";
import { context, pods, request } from "./helpers.ts";

/**
 * Issue 19, twelfth pass: readings shared between the end of one step and the start of the
 * next. The decision's first reading also starts its first plugin call's window
 * (`ProfileTiming.start`, taken once), and the picker's window starts at the last scorer's
 * end (each scorer's weighting is in its own window). Every plugin call is still observed
 * once, with its own time.
 */
describe("shared clock readings", () => {
  /** A clock that moves by 1 ms at each reading, plus what plugins spend. */
  function countingClock(): Clock & { t: number; readings: number } {
    const c = {
      t: 0,
      readings: 0,
      now: () => {
        c.readings++;
        return c.t++;
      },
    };
    return c;
  }
  const clock = countingClock();
  const spend = (ms: number) => {
    clock.t += ms;
  };
  const filter: Filter = {
    type: "slow-filter",
    name: "f",
    filter: (_c, e) => {
      spend(10);
      return e;
    },
  };
  const scorer = (name: string, ms: number, value: number): Scorer => ({
    type: "slow-scorer",
    name,
    score: (_c, eps: readonly Endpoint[]) => {
      spend(ms);
      return eps.map((_e, i) => (i === 0 ? value : value / 2));
    },
  });
  const inner = maxScorePicker({ random: seededRandom(1), params: { maxNumOfEndpoints: 2 } });
  /** Takes the totals column (as the default picker does): its window starts at the last scorer's end. */
  const picker: Picker & ScorePicker = {
    type: "slow-picker",
    name: "p",
    pick: () => {
      throw new Error("pickScores should be used");
    },
    pickScores: (c, endpoints, totals) => {
      spend(80);
      return inner.pickScores!(c, endpoints, totals);
    },
  };
  const profile: SchedulerProfile = {
    name: "default",
    filters: [filter],
    scorers: [
      { scorer: scorer("a", 20, 0.5), weight: 1 },
      { scorer: scorer("b", 40, 0.25), weight: 2 },
    ],
    picker,
  };
  const observed = () => {
    const seen: [string, string, number][] = [];
    const observe: PluginObserver = (point, _type, name, s) => seen.push([point, name, s]);
    return { seen, observe };
  };

  test("the caller's reading starts the first call; it is taken once, so a second profile reads its own", () => {
    const { seen, observe } = observed();
    clock.t = 100;
    clock.readings = 0;
    const timing: ProfileTiming = { start: 95, end: Number.NaN };
    const r = runProfile(context({ clock }), profile, pods(3), observe, timing);
    expect(r.kind).toBe("picked");
    // One reading after each call, none before the first, none before the picker.
    expect(clock.readings).toBe(4);
    expect(seen).toEqual([
      ["Filter", "f", (100 + 10 - 95) / 1000], // from the caller's reading
      ["Scorer", "a", 0.021], // 20 spent + the 1 ms step of the filter's end reading
      ["Scorer", "b", 0.041],
      ["Picker", "p", 0.081], // from the last scorer's end reading
    ]);
    expect(Number.isNaN(timing.start)).toBe(true);
    expect(timing.end).toBe(clock.t - 1);
    // The start was taken: the next profile on the same timing reads the clock first.
    seen.length = 0;
    clock.readings = 0;
    runProfile(context({ clock }), profile, pods(3), observe, timing);
    expect(clock.readings).toBe(5);
    expect(seen.map((s) => s[2])).toEqual([0.011, 0.021, 0.041, 0.081]);
  });

  test("a picker that takes ScoredEndpoints reads its own start (its list is made before its window)", () => {
    const { seen, observe } = observed();
    const listPicker: Picker = {
      type: "list-picker",
      name: "l",
      pick: (c, scored) => {
        spend(80);
        return inner.pick(c, scored);
      },
    };
    clock.readings = 0;
    const r = runProfile(context({ clock }), { ...profile, picker: listPicker }, pods(3), observe, {
      start: clock.t,
      end: Number.NaN,
    });
    expect(r.kind).toBe("picked");
    expect(clock.readings).toBe(5);
    expect(seen.at(-1)).toEqual(["Picker", "l", 0.081]);
  });

  test("the totals are the same weighted sums as before (scores added in scorer order)", () => {
    const { observe } = observed();
    const r = runProfile(context({ clock }), profile, pods(3), observe);
    if (r.kind !== "picked") throw new Error(r.kind);
    expect(r.scored.map((s) => s.score)).toEqual([0.5 * 1 + 0.25 * 2, 0.25 + 0.125 * 2, 0.25 + 0.125 * 2]);
    const untimed = runProfile(context({ clock }), profile, pods(3));
    if (untimed.kind !== "picked") throw new Error(untimed.kind);
    expect(untimed.scored).toEqual(r.scored);
  });

  test("a deferred default-profile decision: its start, one per scorer, one for the picker; then its hooks", () => {
    const c = countingClock();
    const plugin: { point: string; seconds: number }[] = [];
    const observe: PluginObserver = Object.assign(() => {}, {
      recorder: (point: string) => (seconds: number) => plugin.push({ point, seconds }),
    });
    const decisions: number[] = [];
    const s = createScheduler({
      registry: builtinRegistry(),
      inflight: new InFlight(),
      clock: c,
      random: seededRandom(1),
      observe,
      observeDecision: (seconds) => decisions.push(seconds),
    });
    const eps = pods(4);
    const req = request({ prompt: "Hello, how are you? ".repeat(20) });
    s.schedule(req, eps, true).lifecycle?.requestSent?.(); // first use resolves the recorders
    plugin.length = 0;
    decisions.length = 0;
    c.readings = 0;
    const d = s.schedule(req, eps, true);
    const scorers = plugin.filter((p) => p.point === "Scorer").length;
    expect(scorers).toBe(3);
    expect(c.readings).toBe(1 + scorers + 1);
    c.readings = 0;
    d.lifecycle!.requestSent!();
    const pre = plugin.filter((p) => p.point === "PreRequest").length;
    expect(c.readings).toBe(1 + pre);
    // Each call one step of the clock; the decision: its profiles' steps plus its hooks'.
    for (const p of plugin) expect(p.seconds).toBe(0.001);
    expect(decisions).toEqual([(scorers + 1 + pre) / 1000]);
  });

  test("no observers: a decision reads the clock only where a plugin does", () => {
    const c = countingClock();
    const s = createScheduler({
      registry: builtinRegistry(),
      inflight: new InFlight(),
      clock: c,
      random: seededRandom(1),
    });
    const eps = pods(4);
    const req = request({ prompt: "Hello" });
    s.schedule(req, eps, true).lifecycle?.requestSent?.();
    const before = c.readings;
    const d = s.schedule(req, eps, true);
    d.lifecycle?.requestSent?.();
    // Nothing observes the decision or its plugins: no reading of the framework's.
    expect(c.readings - before).toBe(0);
    expect(d.endpoints.length).toBeGreaterThan(0);
  });
});
