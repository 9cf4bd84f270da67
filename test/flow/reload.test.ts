import { describe, expect, test } from "bun:test";
import { FLOW_PLUGINS } from "../../plugins/index.ts";
import { ConfigHolder } from "../../src/config/holder.ts";
import { InFlight } from "../../src/endpoints/inflight.ts";
import { EndpointStore } from "../../src/endpoints/store.ts";
import type { GatewayError } from "../../src/errors.ts";
import { createAdmitter } from "../../src/flow/admitter.ts";
import { silentLogger } from "../../src/log.ts";
import { LoadTracker } from "../../src/scheduling/framework/load.ts";
import { testConfig } from "../helpers/config.ts";
import { FakeTime } from "./helpers.ts";

const objective = (name: string, priority: number) => `
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: { name: ${name} }
spec: { priority: ${priority}, poolRef: { name: pool } }
`;

/** One pod taking one request at a time; flow control with the given band settings. */
const picker = (flowControl: string, gate = "[flowControl]") => `
apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
featureGates: ${gate}
plugins: [{ type: concurrency-detector, parameters: { maxConcurrency: 1 } }]
flowControl: ${flowControl}
`;

const config = (flowControl: string, gate?: string) =>
  testConfig({}, objective("high", 5), objective("low", 0), picker(flowControl, gate));

function setup(flowControl: string) {
  const time = new FakeTime();
  const holder = new ConfigHolder(config(flowControl));
  const endpoints = new EndpointStore();
  endpoints.upsert([
    { name: "pod-a", address: "10.0.0.1:8000", labels: {}, engine: "vllm", models: new Set(["m"]) },
  ]);
  const inflight = new InFlight();
  const warnings: string[] = [];
  const { flow } = createAdmitter({
    config: holder,
    endpoints,
    inflight,
    loads: new LoadTracker(),
    clock: time.clock,
    setTimer: time.setTimer,
    plugins: FLOW_PLUGINS,
    logger: { ...silentLogger(), warn: (msg: string) => warnings.push(msg) },
  });
  if (!flow) throw new Error("flow control is on in this config");
  const admitted: string[] = [];
  const rejected = new Map<string, GatewayError>();
  const running = new Map<string, () => void>();
  /** Submits a request; once admitted it is scheduled on pod-a and runs until `finish`. */
  const submit = (tag: string, objective?: string) =>
    flow
      .admit({
        objective,
        fairnessId: tag.split("#")[0]!,
        targetModel: "m",
        bytes: 10,
        signal: new AbortController().signal,
      })
      .then(
        ({ admission, slot }) => {
          admitted.push(tag);
          flow.withRoom(endpoints.list(), admission); // the schedule stage's call
          const held = inflight.acquire("pod-a");
          running.set(tag, () => {
            held.release();
            slot.release("success");
          });
        },
        (err: GatewayError) => rejected.set(tag, err),
      );
  const flush = async () => {
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };
  const finish = async (tag: string) => {
    running.get(tag)?.();
    running.delete(tag);
    await flush();
  };
  return { time, holder, flow, submit, flush, finish, admitted, rejected, warnings };
}

describe("flow-control settings follow a config reload", () => {
  test("queued requests keep their place across a reload; the new settings apply to new arrivals", async () => {
    const g = setup("{ defaultRequestTTL: 60s }");
    g.submit("run");
    g.submit("low#1", "low");
    g.submit("low#2", "low");
    g.submit("high#1", "high");
    await g.flush();
    expect(g.admitted).toEqual(["run"]);
    expect(g.flow.stats().queued).toBe(3);

    // New bands and a short TTL; the old queue is not dropped by the swap.
    g.holder.swap(
      config(
        "{ defaultRequestTTL: 5s, priorityBands: [{ priority: 5, fairnessPolicyRef: global-strict-fairness-policy }] }",
      ),
    );
    await g.flush();
    expect(g.warnings).toEqual([]);
    expect(g.flow.stats().queued).toBe(3);

    g.submit("new-low#1", "low");
    await g.flush();
    expect(g.flow.stats().queued).toBe(4);
    // 6 s later the new arrival met the new 5 s TTL; the ones queued before the reload keep their 60 s.
    g.time.advance(6000);
    await g.flush();
    expect(g.rejected.get("new-low#1")?.droppedReason).toBe("rejected-ttl-expired");
    expect(g.rejected.size).toBe(1);
    expect(g.flow.stats().queued).toBe(3);

    // Capacity frees one request at a time: priority first, then arrival order, none lost.
    for (const tag of ["run", "high#1", "low#1", "low#2"]) await g.finish(tag);
    expect(g.admitted).toEqual(["run", "high#1", "low#1", "low#2"]);
    expect(g.flow.stats()).toMatchObject({ queued: 0, dispatched: 0 });
    expect(g.flow.draining()).toBe(0);
  });

  test("switching the gate itself still waits for a restart, and says so", async () => {
    const g = setup("{ defaultRequestTTL: 60s }");
    g.holder.swap(config("{ defaultRequestTTL: 5s }", "[]"));
    expect(g.warnings).toHaveLength(1);
    expect(g.warnings[0]).toContain("next restart");
    expect(g.flow.draining()).toBe(0);
    g.flow.shutdown();
  });

  test("a reload whose flow-control part cannot be built keeps the running controller", async () => {
    const g = setup("{ defaultRequestTTL: 60s }");
    g.submit("run");
    g.submit("low#1", "low");
    await g.flush();
    g.holder.swap(config("{ priorityBands: [{ priority: 1, fairnessPolicyRef: no-such-policy }] }"));
    expect(g.flow.draining()).toBe(0);
    await g.finish("run");
    expect(g.admitted).toEqual(["run", "low#1"]);
  });
});
