import { describe, expect, test } from "bun:test";
import { builtinRegistry } from "../../plugins/index.ts";
import { type Clock, seededRandom } from "../../src/clock.ts";
import { InFlight } from "../../src/endpoints/inflight.ts";
import { createScheduler } from "../../src/scheduling/framework/index.ts";
import type { PluginObserver } from "../../src/scheduling/framework/runner.ts";
import { pods, request } from "./helpers.ts";

/**
 * Issue 19, eighth pass: `schedule(request, candidates, true)` (the schedule stage's call)
 * leaves a picked decision's PreRequest hooks and its metrics to `lifecycle.requestSent()`,
 * which forward calls right after the pod call, in the same turn. The hooks run once, before
 * any ResponseReceived or ResponseComplete, and the decision's duration is the profiles' time
 * plus the hooks' (not the pod call's between): an inline decision's value, less the reading
 * that starts its hooks (tenth pass).
 */
function setup() {
  const clock: Clock & { t: number } = { t: 0, now: () => clock.t++ };
  const calls: string[] = [];
  const observe: PluginObserver = Object.assign(() => {}, {
    recorder: (point: string, _type: string, name: string) => (seconds: number) => {
      calls.push(`${point}:${name}:${seconds}`);
    },
  });
  const decisions: { seconds: number; kind: string | undefined }[] = [];
  const s = createScheduler({
    registry: builtinRegistry(),
    inflight: new InFlight(),
    clock,
    random: seededRandom(1),
    observe,
    observeDecision: (seconds, _req, result) => decisions.push({ seconds, kind: result?.kind }),
  });
  return { s, clock, calls, decisions };
}

const points = (calls: string[]) => calls.map((c) => c.split(":")[0]);

describe("PreRequest hooks after the pod call", () => {
  test("held until requestSent, then run once; the decision's duration leaves out the time between", () => {
    const { s, clock, calls, decisions } = setup();
    const eps = pods(4);
    const req = request({ prompt: "Hello, how are you? ".repeat(20) });
    s.schedule(req, eps).lifecycle?.responseComplete("ok"); // first use resolves the recorders
    calls.length = 0;
    decisions.length = 0;

    const inline = s.schedule(req, eps);
    const inlineSeconds = decisions.at(-1)!.seconds;
    expect(points(calls)).toContain("PreRequest");
    inline.lifecycle!.responseComplete("ok");
    calls.length = 0;
    decisions.length = 0;

    const held = s.schedule(req, eps, true);
    expect(held.endpoints.length).toBeGreaterThan(0);
    expect(points(calls)).not.toContain("PreRequest");
    expect(decisions).toEqual([]);
    clock.t += 1000; // the pod call: not part of the decision
    held.lifecycle!.requestSent!();
    expect(points(calls)).toContain("PreRequest");
    // Tenth pass: the held decision's profiles end at the picker's last reading (no reading of
    // their own), so on this counting clock it is one step shorter than the inline decision,
    // whose hooks start with a reading after the picker's.
    expect(decisions).toEqual([{ seconds: inlineSeconds - 0.001, kind: "picked" }]);
    const after = calls.length;
    held.lifecycle!.requestSent!();
    held.lifecycle!.responseReceived(held.endpoints[0]!, { status: 200, headers: new Headers() });
    held.lifecycle!.responseComplete("ok");
    expect(calls.slice(after).filter((c) => c.startsWith("PreRequest"))).toEqual([]);
    expect(decisions).toHaveLength(1);
  });

  test("a held decision whose call never left still runs its hooks and metrics, before ResponseComplete", () => {
    const { s, calls, decisions } = setup();
    const held = s.schedule(request({ prompt: "a prompt that is long enough ".repeat(10) }), pods(2), true);
    expect(decisions).toEqual([]);
    held.lifecycle!.responseComplete("error");
    const order = points(calls);
    expect(order.indexOf("PreRequest")).toBeGreaterThanOrEqual(0);
    expect(order.indexOf("PreRequest")).toBeLessThan(order.indexOf("ResponseComplete"));
    expect(decisions).toHaveLength(1);
  });

  test("the hooks' effects are what the next decision sees: a held record, once sent, draws the same prompt", () => {
    const { s } = setup();
    const eps = pods(4);
    const prompt = "The same long system prompt, shared by every request here. ".repeat(40);
    const first = s.schedule(request({ prompt }), eps, true);
    expect(s.prefixIndex.size).toBe(0); // nothing recorded before the call
    first.lifecycle!.requestSent!();
    expect(s.prefixIndex.size).toBeGreaterThan(0);
    const second = s.schedule(request({ prompt }), eps, true);
    second.lifecycle!.requestSent!();
    expect(second.endpoints[0]!.name).toBe(first.endpoints[0]!.name);
  });
});
