import { expect, test } from "bun:test";
import { builtinRegistry } from "../../plugins/index.ts";
import { type Clock, seededRandom } from "../../src/clock.ts";
import { InFlight } from "../../src/endpoints/inflight.ts";
import { createScheduler } from "../../src/scheduling/framework/index.ts";
import type { PluginObserver } from "../../src/scheduling/framework/runner.ts";
import { pods, request } from "./helpers.ts";

/**
 * Issue 19, sixth pass: a timed decision's end is the PreRequest hooks' last clock reading
 * (nothing of ours runs between them), not a reading of its own. Every reading here moves a
 * counting clock by 1 ms, so the decision's duration says which reading ended it, and the
 * plugins' durations stay one step each.
 */
test("the decision ends at the PreRequest hooks' last reading: one clock reading fewer, plugin timings unchanged", () => {
  let readings = 0;
  const clock: Clock = { now: () => readings++ };
  const plugin: { point: string; name: string; seconds: number }[] = [];
  const observe: PluginObserver = Object.assign(() => {}, {
    recorder: (point: string, _type: string, name: string) => (seconds: number) => {
      plugin.push({ point, name, seconds });
    },
  });
  const decisions: number[] = [];
  const s = createScheduler({
    registry: builtinRegistry(),
    inflight: new InFlight(),
    clock,
    random: seededRandom(1),
    observe,
    observeDecision: (seconds) => decisions.push(seconds),
  });
  const eps = pods(4);
  const req = request({ prompt: "Hello, how are you?" });
  s.schedule(req, eps); // first use resolves the recorders
  plugin.length = 0;
  const start = readings;
  const d = s.schedule(req, eps);
  const used = readings - start;
  const preRequest = plugin.filter((p) => p.point === "PreRequest");
  expect(preRequest.length).toBeGreaterThan(0);
  // Every plugin call is still timed over exactly one step of the clock.
  for (const p of plugin) expect(p.seconds).toBe(0.001);
  // The decision spans every reading it made: the first to the last, none after the hooks.
  expect(decisions.at(-1)).toBe((used - 1) / 1000);
  // The decision's start (which also starts the first scorer's window: twelfth pass), one
  // after each scorer, one after the picker (whose window starts at the last scorer's end:
  // twelfth pass), the PreRequest run's first and one after each hook (the last ends the
  // decision). Before the twelfth pass: two more (the profile's own first, the picker's).
  const scorers = plugin.filter((p) => p.point === "Scorer").length;
  expect(plugin.filter((p) => p.point === "Picker")).toHaveLength(1);
  expect(used).toBe(1 + scorers + 1 + (1 + preRequest.length));
  expect(d.endpoints.length).toBeGreaterThan(0);
});
