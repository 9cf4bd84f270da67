import { describe, expect, test } from "bun:test";
import { builtinFlowPolicies } from "../../plugins/flow/index.ts";
import { ConfigError } from "../../src/config/errors.ts";
import { flowsOf, harness } from "./helpers.ts";

const PA = "program-aware-fairness";

function setup(parameters: Record<string, unknown> = {}) {
  const policies = builtinFlowPolicies([
    { type: PA, parameters: { strategy: "turn-priority", ...parameters } },
  ]);
  const config = { defaultRequestTTL: "0s", defaultPriorityBand: { fairnessPolicyRef: PA } };
  return harness({ config, policies });
}

/** Occupies the single slot, then returns the harness with it held. */
async function busy(parameters?: Record<string, unknown>) {
  const h = setup(parameters);
  h.submit("busy#0");
  await h.flush();
  return h;
}

/** Gives `flow` `turns` dispatched requests (one at a time, through the held slot). */
async function playTurns(h: ReturnType<typeof setup>, flow: string, turns: number) {
  for (let i = 0; i < turns; i++) {
    h.submit(`${flow}#warm${i}`, { fairnessId: flow });
    await h.drain(1);
  }
}

describe("program-aware-fairness (turn-priority)", () => {
  test("the deeper session is served first when heads waited alike", async () => {
    const h = await busy();
    await playTurns(h, "deep", 5);
    await playTurns(h, "shallow", 1);
    h.submit("shallow#0", { fairnessId: "shallow" });
    h.submit("deep#0", { fairnessId: "deep" });
    await h.drain(10);
    expect(flowsOf(h.admitted.slice(-2))).toEqual(["deep", "shallow"]);
  });

  test("head wait overtakes depth at turnPriorityTimeWeight per second", async () => {
    // deep is at turn 6, shallow at turn 2: 4 turns apart = 80 s of wait at 0.05/s.
    for (const [waitS, first] of [
      [79, "deep"],
      [81, "shallow"],
    ] as const) {
      const h = await busy({ turnPriorityInactivitySeconds: 0 });
      await playTurns(h, "deep", 5);
      await playTurns(h, "shallow", 1);
      h.submit("shallow#0", { fairnessId: "shallow" });
      h.time.advance(waitS * 1000);
      h.submit("deep#0", { fairnessId: "deep" });
      await h.drain(10);
      expect(flowsOf(h.admitted.slice(-2))[0]).toBe(first);
    }
  });

  test("a session idle past turnPriorityInactivitySeconds competes from turn one", async () => {
    const h = await busy({ turnPriorityTimeWeight: 0, turnPriorityInactivitySeconds: 120 });
    await playTurns(h, "old", 5);
    h.time.advance(121_000);
    await playTurns(h, "fresh", 2);
    h.submit("old#0", { fairnessId: "old" });
    h.submit("fresh#0", { fairnessId: "fresh" });
    await h.drain(10);
    // old has 5 turns but went cold (turn 1); fresh is at turn 3.
    expect(flowsOf(h.admitted.slice(-2))).toEqual(["fresh", "old"]);
  });

  test("with the reset off (0), depth survives idleness", async () => {
    const h = await busy({ turnPriorityTimeWeight: 0, turnPriorityInactivitySeconds: 0 });
    await playTurns(h, "old", 5);
    h.time.advance(121_000);
    await playTurns(h, "fresh", 2);
    h.submit("fresh#0", { fairnessId: "fresh" });
    h.submit("old#0", { fairnessId: "old" });
    await h.drain(10);
    expect(flowsOf(h.admitted.slice(-2))).toEqual(["old", "fresh"]);
  });

  test("equal scores go to the older head", async () => {
    const h = await busy({ turnPriorityTimeWeight: 0 });
    h.submit("b#0", { fairnessId: "b" });
    h.time.advance(1);
    h.submit("a#0", { fairnessId: "a" });
    await h.drain(10);
    expect(flowsOf(h.admitted.slice(1))).toEqual(["b", "a"]);
  });

  test("strategy las (upstream's default) is refused, naming what to use instead", () => {
    for (const parameters of [undefined, { strategy: "las" }]) {
      expect(() => builtinFlowPolicies([{ type: PA, ...(parameters ? { parameters } : {}) }])).toThrow(
        /turn-priority.*token-fairness-policy/,
      );
    }
    expect(() => builtinFlowPolicies([{ type: PA, parameters: { strategy: "drr" } }])).toThrow(ConfigError);
    // Built-ins with default parameters are built on reference: configs that do not name
    // program-aware-fairness are not stopped by its unrunnable default; a bare reference is.
    const builtins = builtinFlowPolicies([]);
    expect(builtins.fairness("round-robin-fairness-policy")?.type).toBe("round-robin-fairness-policy");
    expect(() => builtins.fairness(PA)).toThrow(/turn-priority/);
    expect(() =>
      builtinFlowPolicies([
        { type: PA, parameters: { strategy: "turn-priority", turnPriorityTimeWeight: -1 } },
      ]),
    ).toThrow(ConfigError);
  });
});
