import { describe, expect, test } from "bun:test";
import type { ScrapeStatus } from "../../src/endpoints/types.ts";
import { twoPodFlowGateway } from "./two-pod-gateway.ts";

/**
 * One rule for "can this pod take a request" in flow control and the scheduler, through
 * the gateway's own wiring. The data layer (datalayer/freshness.ts) calls a pod whose
 * scrape is in flight past scrapeTimeoutMs *late*: it keeps its last snapshot (not
 * stale), and scheduling leaves it out while a candidate's metrics are current. Flow
 * control must count room on the same pods: not on a late pod while a current one exists
 * (the schedule stage would then send the granted request into the current pod's full
 * queue), and not treat late pods as saturated when every pod is late (the scheduler
 * then uses them all, and a lost scrape round must not stop the whole pool).
 */
const LATE = (now: number): ScrapeStatus => ({ inFlightSince: now - 1500, lateAt: now - 500, failures: 0 });
const ANSWERED: ScrapeStatus = { inFlightSince: undefined, lateAt: undefined, failures: 0 };

function setup() {
  const { gw, now, flow, admit } = twoPodFlowGateway();
  const pod = (name: string, waiting: number, age: number, scrape: ScrapeStatus) => {
    gw.deps.endpoints.setMetrics(name, {
      waitingQueueSize: waiting,
      runningRequests: 4,
      kvCacheUsage: 0,
      updatedAt: now - age,
    });
    gw.deps.endpoints.setScrapeStatus(name, scrape);
  };
  return { now, pod, flow, admit };
}

describe("a late scrape: flow control and the scheduler agree", () => {
  test("a late pod with room is no place while a current pod exists: the request waits at the gateway", () => {
    const { now, pod, flow, admit } = setup();
    pod("a", 2, 100, ANSWERED); // current, at queueDepthThreshold
    pod("b", 0, 1000, LATE(now)); // room on its last snapshot, but its scrape is late
    admit();
    expect(flow.stats()).toMatchObject({ queued: 1, dispatched: 0 });
    flow.shutdown();
  });

  test("every pod late, past the staleness threshold with scrapes still coming: not saturated", () => {
    const { now, pod, flow, admit } = setup();
    pod("a", 2, 2500, LATE(now));
    pod("b", 0, 2500, LATE(now));
    admit();
    // Granted on b's last snapshot at once, as the scheduler keeps every pod when all lag.
    expect(flow.stats()).toMatchObject({ queued: 0, dispatched: 1 });
    flow.shutdown();
  });

  test("a failed scrape past the threshold is stale, and stale counts as saturated: the request waits", () => {
    const { pod, flow, admit } = setup();
    pod("a", 2, 100, ANSWERED);
    pod("b", 0, 2500, { inFlightSince: undefined, lateAt: undefined, failures: 1 });
    admit();
    expect(flow.stats()).toMatchObject({ queued: 1, dispatched: 0 });
    flow.shutdown();
  });
});
