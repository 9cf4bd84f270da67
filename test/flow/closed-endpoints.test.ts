import { expect, test } from "bun:test";
import * as v from "valibot";
import { builtinFlowPolicies } from "../../plugins/flow/index.ts";
import type { Endpoint } from "../../src/endpoints/types.ts";
import { createFlowController, FlowControlConfigSchema } from "../../src/flow/control/index.ts";
import { endpoint, FakeTime } from "./helpers.ts";

/**
 * Strict priority per endpoint, where it binds: a higher band whose ceiling is below an
 * endpoint's score waits for it, and a lower band (higher ceiling) must not take that
 * endpoint meanwhile, while it may still use endpoints the waiting request cannot.
 * (With equal ceilings the ceiling alone keeps lower bands off a full pod, so only
 * unequal ceilings test the closing.)
 */
test("a waiting higher band closes its own endpoints to lower bands, and only those", async () => {
  const time = new FakeTime();
  const serves = (name: string, models: string[]): Endpoint => ({
    ...endpoint(name),
    models: new Set(models),
  });
  const endpoints = [serves("a", ["m1", "m2"]), serves("b", ["m2"])];
  const scores: Record<string, number> = { a: 0.6, b: 0 };
  const ctl = createFlowController({
    clock: time.clock,
    policies: builtinFlowPolicies(),
    setTimer: time.setTimer,
    priorityOf: (o) => (o === "critical" ? 10 : 0),
    saturation: { type: "t", name: "t", score: (e) => scores[e.name]! },
    endpoints: { list: () => endpoints, serving: (m) => endpoints.filter((e) => e.models.has(m)) },
    config: v.parse(FlowControlConfigSchema, { priorityBands: [{ priority: 10, ceiling: 0.5 }] }),
  });
  const admitted: string[] = [];
  const flush = async () => {
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };
  const submit = (tag: string, targetModel: string, objective?: string) =>
    ctl
      .admit({ objective, fairnessId: tag, targetModel, bytes: 1, signal: new AbortController().signal })
      .then(() => admitted.push(tag));
  submit("critical-m1", "m1", "critical"); // a scores 0.6, above the band's 0.5: waits for a
  submit("standard-m1", "m1"); // a has room under 1, but critical waits for it
  submit("standard-m2", "m2"); // b is not one critical can use
  await flush();
  expect(admitted).toEqual(["standard-m2"]);
  expect(ctl.stats().queued).toBe(2);
  scores.a = 0.4;
  ctl.onCapacityChange();
  await flush();
  expect(admitted).toEqual(["standard-m2", "critical-m1", "standard-m1"]);
});
