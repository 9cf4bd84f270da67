import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { fcfsOrderingPolicy } from "../../plugins/flow/fcfs-ordering-policy.ts";
import { builtinFlowPolicies } from "../../plugins/flow/index.ts";
import { roundRobinFairnessPolicy } from "../../plugins/flow/round-robin-fairness-policy.ts";
import { tokenFairnessPolicy } from "../../plugins/flow/token-fairness-policy.ts";
import { Band, QueueItem } from "../../src/flow/control/band.ts";
import { flowControlSettings } from "../../src/flow/control/config.ts";
import { createFlowController, FlowControlConfigSchema } from "../../src/flow/control/index.ts";
import type { FairnessPolicy, FlowRequest } from "../../src/flow/control/types.ts";
import { endpoint, FakeTime, harness, manualDetector } from "./helpers.ts";

// Fairness ids come from a client header: each distinct id must cost memory only while
// it has requests queued, or up to a fixed bound.
const IDS = 1000;

function bandWith(fairness: FairnessPolicy) {
  const band = new Band(flowControlSettings().band(0), fairness, fcfsOrderingPolicy());
  let seq = 0;
  const add = (fairnessId: string) => {
    const request = { fairnessId, bytes: 40, targetModel: "m" } as FlowRequest;
    const item = new QueueItem(request, 0, 40, seq, 60_000, seq++, band.flow(fairnessId));
    band.add(item);
    return item;
  };
  /** Dispatches every queued request, as the controller does. */
  const drain = () => {
    for (let item = band.choose(() => true); item; item = band.choose(() => true)) band.remove(item, true);
  };
  const sizes = () => {
    const b = band as unknown as { flows: Map<string, unknown>; active: unknown[]; state: unknown };
    return { flows: b.flows.size, active: b.active.length, state: b.state };
  };
  return { band, add, drain, sizes };
}

describe("client-chosen fairness ids cannot grow flow control's memory or its work without bound", () => {
  test("round-robin: a band's flows and rotation shrink back once the ids stop", () => {
    const b = bandWith(roundRobinFairnessPolicy());
    const heavy = [b.add("heavy"), b.add("heavy")];
    for (let i = 0; i < IDS; i++) b.add(`tenant-${i}`);
    expect(b.sizes().flows).toBe(IDS + 1);
    b.drain();
    const { flows, active, state } = b.sizes();
    const rr = state as { fresh: Set<unknown>; rotation: Set<unknown> };
    expect({ flows, active, fresh: rr.fresh.size, rotation: rr.rotation.size }).toEqual({
      flows: 0,
      active: 0,
      fresh: 0,
      rotation: 0,
    });
    expect(heavy.every((i) => i.flow.length === 0)).toBe(true);
  });

  test("token fairness: idle counters stay under maxIdleCounters while a flow stays busy", () => {
    const b = bandWith(tokenFairnessPolicy({ maxIdleCounters: 50 }));
    b.add("heavy");
    for (let i = 0; i < IDS; i++) {
      // The heavy flow stays backlogged (a busy period never ends); each tenant comes once.
      b.add("heavy");
      b.add(`tenant-${i}`);
      const tenant = b.band.choose((h) => h.request.fairnessId !== "heavy")!;
      b.band.remove(tenant, true);
      const heavy = b.band.choose((h) => h.request.fairnessId === "heavy")!;
      b.band.remove(heavy, true);
      const counters = (b.sizes().state as { counters: Map<string, number> }).counters;
      expect(counters.size).toBeLessThanOrEqual(1 + 50 + 1);
    }
    expect(b.sizes().flows).toBe(1); // only the heavy flow is still queued
    b.drain();
    const s = b.sizes().state as { counters: Map<string, number>; served: Map<string, number> };
    expect({ flows: b.sizes().flows, counters: s.counters.size, served: s.served.size }).toEqual({
      flows: 0,
      counters: 0,
      served: 0,
    });
  });

  test("round-robin: a pick reads each offered flow a bounded number of times", () => {
    // 1,000 flows wait on a full model (fresh, ahead in the rotation), 1,000 can go: a pick
    // must not scan the offered list once per waiting flow (that was 3 s for 2,000 + 2,000).
    const p = roundRobinFairnessPolicy();
    const s = p.newState();
    const flow = (id: string) => ({
      fairnessId: id,
      priority: 0,
      length: 1,
      bytes: 1,
      head: () => ({}) as never,
    });
    for (let i = 0; i < 1000; i++) p.activated?.(s, flow(`waits-${i}`), []);
    const open = Array.from({ length: 1000 }, (_, i) => flow(`goes-${i}`));
    for (const f of open) p.activated?.(s, f, []);
    let reads = 0;
    const offered = new Proxy(open, {
      get(target, key, receiver) {
        if (typeof key === "string" && /^\d+$/.test(key)) reads++;
        return Reflect.get(target, key, receiver);
      },
    });
    expect(p.pick(s, offered, { compare: () => 0 })).toBe(open[0]!);
    expect(reads).toBeLessThanOrEqual(2 * open.length);
  });

  test("through the controller: thousands of distinct ids queue, drain, and leave no flow behind", async () => {
    const pressure = manualDetector(1);
    const h = harness({
      saturation: pressure,
      config: {
        priorityBands: [
          { priority: 0, fairnessPolicyRef: "round-robin-fairness-policy", maxRequests: IDS },
          { priority: 5, fairnessPolicyRef: "token-fairness-policy", maxRequests: IDS },
        ],
      },
      priorities: { hi: 5 },
    });
    for (let i = 0; i < IDS; i++)
      h.submit(`t${i}`, { fairnessId: `tenant-${i}`, objective: i % 2 ? "hi" : undefined });
    await h.flush();
    expect(h.ctl.stats().bands.map((band) => band.flows.length)).toEqual([IDS / 2, IDS / 2]);
    pressure.value = 0;
    h.ctl.onCapacityChange();
    await h.flush();
    expect(h.admitted.length).toBe(IDS);
    const stats = h.ctl.stats();
    expect(stats.queued).toBe(0);
    expect(stats.bands.map((band) => band.flows.length)).toEqual([0, 0]);
  });

  test("a dispatch pass asks for a model's endpoints once, not once per waiting flow", async () => {
    const time = new FakeTime();
    const endpoints = Array.from({ length: 8 }, (_, i) => ({
      ...endpoint(`pod-${i}`),
      models: new Set(["m"]),
    }));
    let asked = 0;
    const ctl = createFlowController({
      clock: time.clock,
      policies: builtinFlowPolicies(),
      setTimer: time.setTimer,
      priorityOf: () => 0,
      saturation: manualDetector(1),
      endpoints: {
        list: () => endpoints,
        serving: (m) => {
          asked++;
          return endpoints.filter((e) => e.models.has(m));
        },
      },
      config: v.parse(FlowControlConfigSchema, { defaultPriorityBand: { maxRequests: IDS } }),
    });
    for (let i = 0; i < IDS; i++)
      ctl
        .admit({
          objective: undefined,
          fairnessId: `tenant-${i}`,
          targetModel: "m",
          bytes: 1,
          signal: new AbortController().signal,
        })
        .catch(() => {});
    asked = 0;
    ctl.onCapacityChange(); // a completion while every pod is still full
    expect(asked).toBeLessThanOrEqual(2);
    ctl.shutdown();
  });
});
