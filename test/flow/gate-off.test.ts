import { describe, expect, test } from "bun:test";
import { concurrencyDetector } from "../../plugins/flow/concurrency-detector.ts";
import { InFlight } from "../../src/endpoints/inflight.ts";
import { poolSaturation, trackedLoads } from "../../src/flow/control/index.ts";
import { gateOffAdmitter } from "../../src/flow/gate-off.ts";
import { LoadTracker } from "../../src/scheduling/framework/load.ts";
import { testConfig } from "../helpers/config.ts";
import { endpoint, FakeTime } from "./helpers.ts";

const objective = (name: string, priority: number) => `
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: { name: ${name} }
spec: { priority: ${priority}, poolRef: { name: pool } }
`;

function setup() {
  const config = testConfig({}, objective("batch", -1), objective("chat", 5));
  const inflight = new InFlight();
  const endpoints = [endpoint("a"), endpoint("b")];
  const saturation = poolSaturation({
    detector: concurrencyDetector({ maxConcurrency: 2 }),
    endpoints: { list: () => endpoints },
    loads: trackedLoads(new LoadTracker(), inflight),
    clock: new FakeTime().clock,
  });
  const admitter = gateOffAdmitter({ config: () => config, saturation });
  const req = (objective: string | undefined) => ({
    objective,
    fairnessId: "f",
    targetModel: "m",
    bytes: 10,
    signal: new AbortController().signal,
  });
  return { admitter, inflight, req, saturation };
}

describe("gate-off admission (flow control disabled)", () => {
  test("below saturation everything is forwarded at once, with its priority", async () => {
    const { admitter, req } = setup();
    for (const [o, p] of [
      ["batch", -1],
      ["chat", 5],
      [undefined, 0],
      ["unknown", 0],
    ] as const) {
      const { admission } = await admitter.admit(req(o));
      expect(admission).toEqual({ priority: p, fairnessId: "f", queuedMs: 0 });
    }
  });

  test("saturated: sheddable requests get 429 rejected-saturated, others still go", async () => {
    const { admitter, inflight, req, saturation } = setup();
    for (let i = 0; i < 4; i++) inflight.acquire(i % 2 ? "a" : "b");
    expect(saturation()).toBe(1);
    const err = await admitter.admit(req("batch")).catch((e) => e);
    expect(err.status).toBe(429);
    expect(err.droppedReason).toBe("rejected-saturated");
    expect(err.headers["retry-after"]).toBe("1");
    expect((await admitter.admit(req("chat"))).admission.priority).toBe(5);
    expect((await admitter.admit(req(undefined))).admission.priority).toBe(0);
  });

  test("no endpoints counts as saturated", async () => {
    const config = testConfig({}, objective("batch", -1));
    const saturation = poolSaturation({
      detector: concurrencyDetector(),
      endpoints: { list: () => [] },
      loads: trackedLoads(new LoadTracker(), new InFlight()),
      clock: new FakeTime().clock,
    });
    const admitter = gateOffAdmitter({ config: () => config, saturation });
    const err = await admitter
      .admit({
        objective: "batch",
        fairnessId: "f",
        targetModel: "m",
        bytes: 1,
        signal: new AbortController().signal,
      })
      .catch((e) => e);
    expect(err.droppedReason).toBe("rejected-saturated");
  });
});
