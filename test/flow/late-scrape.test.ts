import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { utilizationDetector } from "../../plugins/flow/utilization-detector.ts";
import { InFlight } from "../../src/endpoints/inflight.ts";
import type { Endpoint, MetricsSnapshot, ScrapeStatus } from "../../src/endpoints/types.ts";
import { createFlowController, FlowControlConfigSchema, trackedLoads } from "../../src/flow/control/index.ts";
import { LoadTracker } from "../../src/scheduling/framework/load.ts";
import { usableEndpoints } from "../../src/stages/schedule.ts";
import { endpoint, FakeTime } from "./helpers.ts";

/**
 * One rule for "can this pod take a request" in flow control and the scheduler. A pod
 * whose scrape is merely late (in flight past scrapeTimeoutMs, nothing failed) keeps its
 * last snapshot in the data layer (datalayer/freshness.ts); flow control must not count it
 * saturated for that, and when flow control granted a place on it, the schedule stage
 * must not send the request into a full fresh pod's queue instead.
 */
const STALENESS_MS = 2000;

function setup(lateBy: { age: number; scrape: ScrapeStatus }) {
  const time = new FakeTime();
  time.advance(10_000);
  const now = time.clock.now(); // 10,000
  const at = (name: string, m: Partial<MetricsSnapshot>, scrape?: ScrapeStatus): Endpoint => ({
    ...endpoint(name, { updatedAt: now - 100, ...m }),
    models: new Set(["m"]),
    ...(scrape ? { scrape } : {}),
  });
  // a: fresh and at queueDepthThreshold (2 waiting); b: idle at its last scrape, now late.
  const endpoints = [
    at("a", { waitingQueueSize: 2 }, { inFlightSince: undefined, lateAt: undefined, failures: 0 }),
    at("b", { updatedAt: now - lateBy.age }, lateBy.scrape),
  ];
  const inflight = new InFlight();
  const ctl = createFlowController({
    clock: time.clock,
    setTimer: time.setTimer,
    priorityOf: () => 0,
    saturation: utilizationDetector({ queueDepthThreshold: 2, metricsStalenessThreshold: STALENESS_MS }),
    endpoints: { list: () => endpoints },
    inflight,
    loads: trackedLoads(new LoadTracker(), inflight),
    config: v.parse(FlowControlConfigSchema, {}),
  });
  const admit = () =>
    ctl.admit({
      objective: undefined,
      fairnessId: "t",
      targetModel: "m",
      bytes: 10,
      signal: new AbortController().signal,
    });
  const usable = (admission: Parameters<typeof ctl.withRoom>[1]) =>
    usableEndpoints(endpoints, {
      health: { allHealthy: true, isEjected: () => false },
      clock: time.clock,
      stalenessMs: STALENESS_MS,
      admission,
      flow: ctl,
    }).map((e) => e.name);
  return { ctl, admit, usable };
}

describe("a late scrape: flow control and the scheduler agree", () => {
  test("past the staleness threshold with the scrape still coming, the pod is not saturated", async () => {
    const { ctl, admit, usable } = setup({
      age: STALENESS_MS + 500,
      scrape: { inFlightSince: 10_000 - 1500, lateAt: 10_000 - 500, failures: 0 },
    });
    const first = admit();
    // Granted at once (b has room on its last snapshot), not queued until b's scrape lands.
    expect(ctl.stats()).toMatchObject({ queued: 0, dispatched: 1 });
    expect(usable((await first).admission)).toEqual(["b"]);
  });

  test("a granted request goes to the late pod with room, not into the full fresh pod's queue", async () => {
    const { admit, usable } = setup({
      age: 1000,
      scrape: { inFlightSince: 10_000 - 1000, lateAt: 10_000 - 10, failures: 0 },
    });
    const r = await admit();
    expect(usable(r.admission)).toEqual(["b"]);
  });

  test("a failed scrape past the threshold still counts as saturated: the request waits", async () => {
    const { ctl, admit } = setup({
      age: STALENESS_MS + 500,
      scrape: { inFlightSince: undefined, lateAt: undefined, failures: 1 },
    });
    admit().catch(() => {});
    expect(ctl.stats()).toMatchObject({ queued: 1, dispatched: 0 });
    ctl.shutdown();
  });
});
