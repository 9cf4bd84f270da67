import { describe, expect, test } from "bun:test";
import { twoPodFlowGateway } from "./two-pod-gateway.ts";

/**
 * An endpoint passive health has ejected is skipped by the schedule stage, so flow control
 * must not count its room either (src/endpoints/usable.ts is the one rule for both):
 * otherwise a request is granted on the ejected pod's free place and then sent into the
 * healthy pod's full queue.
 */
function setup() {
  const { gw, now, flow, admit } = twoPodFlowGateway();
  const pod = (name: string, waiting: number) =>
    gw.deps.endpoints.setMetrics(name, {
      waitingQueueSize: waiting,
      runningRequests: 4,
      kvCacheUsage: 0,
      updatedAt: now,
    });
  const eject = (name: string) => {
    for (let i = 0; i < 5; i++) gw.deps.health.failure(name, "500");
  };
  return { gw, pod, eject, flow, admit };
}

describe("flow control counts no room on an ejected endpoint", () => {
  test("the only pod with room is ejected: the request waits at the gateway", () => {
    const { gw, pod, eject, flow, admit } = setup();
    pod("a", 2); // healthy, at queueDepthThreshold
    pod("b", 0); // room, but ejected
    eject("b");
    expect(gw.deps.health.isEjected("b")).toBe(true);
    admit();
    expect(flow.stats()).toMatchObject({ queued: 1, dispatched: 0 });
    flow.shutdown();
  });

  test("every pod ejected: all are usable again, as the schedule stage tries them all", () => {
    const { pod, eject, flow, admit } = setup();
    pod("a", 0);
    pod("b", 0);
    eject("a");
    eject("b");
    admit();
    expect(flow.stats()).toMatchObject({ queued: 0, dispatched: 1 });
    flow.shutdown();
  });
});
