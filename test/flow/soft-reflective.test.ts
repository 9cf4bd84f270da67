/**
 * soft-reflective-ceiling-policy (llm-d-router v0.10) run per dispatch call: band rank i
 * of N has reflective ceiling 1 - i s / (N - 1); past it the band is open once every
 * round(s / (1 - s)) calls; at s >= 1 only the highest band dispatches.
 */
import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { builtinFlowPolicies } from "../../plugins/flow/index.ts";
import { softReflectiveGate } from "../../plugins/flow/usage-limit-policies.ts";
import { FLOW_PLUGINS } from "../../plugins/index.ts";
import { EndpointPickerConfigSchema } from "../../src/config/resources.ts";
import { withUsageLimits } from "../../src/flow/admitter.ts";
import { createFlowController } from "../../src/flow/control/index.ts";
import { endpoint, FakeTime, manualDetector } from "./helpers.ts";

/** Which of `priorities` are open on each of `calls` calls at saturation s. */
const openings = (priorities: number[], s: number, calls: number) => {
  const gate = softReflectiveGate();
  return Array.from({ length: calls }, () => {
    const gated = gate(priorities, s);
    return priorities.map((p) => (gated.get(p) === 0 ? 0 : 1)).join("");
  });
};

describe("the gate per call", () => {
  test("below its reflective ceiling a band is open; the highest band always is", () => {
    // N = 3, s = 0.4: ceilings 1, 0.8, 0.6: all open.
    expect(openings([10, 0, -10], 0.4, 3)).toEqual(["111", "111", "111"]);
    expect(openings([0], 0.99, 2)).toEqual(["1", "1"]);
  });

  test("past it, open once every round(s / (1 - s)) calls", () => {
    // N = 2, s = 0.75: band 1's ceiling 0.25; period round(3) = 3.
    expect(openings([0, -1], 0.75, 6)).toEqual(["11", "10", "10", "11", "10", "10"]);
    // N = 3, s = 0.8: ceilings 1, 0.6, 0.2: bands 1 and 2 past; period round(4) = 4.
    expect(openings([2, 1, 0], 0.8, 5)).toEqual(["111", "100", "100", "100", "111"]);
    // N = 3, s = 0.7: ceilings 1, 0.65, 0.3: both past; period round(2.33) = 2.
    expect(openings([2, 1, 0], 0.7, 4)).toEqual(["111", "100", "111", "100"]);
    // N = 4, s = 0.7: ceilings 1, 0.77, 0.53, 0.3: bands 2 and 3 past.
    expect(openings([3, 2, 1, 0], 0.7, 2)).toEqual(["1111", "1100"]);
  });

  test("at saturation 1 or more, every band but the highest is closed", () => {
    expect(openings([5, 1, 0], 1, 3)).toEqual(["100", "100", "100"]);
  });
});

describe("through the flow controller (fake time)", () => {
  const picker = v.parse(EndpointPickerConfigSchema, {
    apiVersion: "llm-d.ai/v1alpha1",
    kind: "EndpointPickerConfig",
    featureGates: ["flowControl"],
    plugins: [{ type: "soft-reflective-ceiling-policy" }],
    flowControl: {
      usageLimitPolicyPluginRef: "soft-reflective-ceiling-policy",
      priorityBands: [{ priority: 0 }, { priority: -1 }],
    },
  });

  const setup = (saturation: number) => {
    const time = new FakeTime();
    const limited = withUsageLimits(picker, FLOW_PLUGINS);
    expect(limited.gate).toBeDefined();
    const detector = manualDetector(saturation);
    const ctl = createFlowController({
      clock: time.clock,
      setTimer: time.setTimer,
      policies: builtinFlowPolicies(),
      priorityOf: (o) => (o === "batch" ? -1 : 0),
      saturation: detector,
      endpoints: { list: () => [endpoint("a")] },
      config: limited.flowControl!,
      usageGate: limited.gate!,
    });
    const signal = new AbortController().signal;
    const req = (objective?: string) => ({ objective, fairnessId: "f", targetModel: "m", bytes: 1, signal });
    return { ctl, detector, req };
  };
  const settle = async () => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };

  test("s = 0.75: the low band dispatches on every third pass; the high band on every one", async () => {
    const { ctl, req } = setup(0.75);
    const low: unknown[] = [];
    for (let i = 0; i < 6; i++) {
      // Each arrival runs one dispatch pass (a call): passes 0 and 3 let one batch request through.
      void ctl
        .admit(req("batch"))
        .then((r) => low.push(r))
        .catch(() => {}); // the ones still queued end at shutdown
      await settle();
    }
    expect(low.length).toBe(2);
    expect(ctl.stats()).toMatchObject({ queued: 4 });
    const high = await ctl.admit(req()); // the highest band is never gated: at once
    expect(high.admission.priority).toBe(0);
    ctl.shutdown();
  });

  test("below the low band's ceiling nothing is gated", async () => {
    const { ctl, req } = setup(0.4);
    for (let i = 0; i < 4; i++) await ctl.admit(req("batch"));
    expect(ctl.stats()).toMatchObject({ queued: 0, dispatched: 4 });
    ctl.shutdown();
  });

  test("at saturation 1 the low band waits until saturation falls", async () => {
    const { ctl, detector, req } = setup(1);
    let got: unknown;
    void ctl.admit(req("batch")).then((r) => {
      got = r;
    });
    await settle();
    expect(got).toBeUndefined();
    detector.value = 0.2;
    ctl.onCapacityChange();
    await settle();
    expect(got).toBeDefined();
    ctl.shutdown();
  });
});
