import type { Random } from "../clock.ts";
import type { InFlight } from "../endpoints/inflight.ts";
import type { Endpoint } from "../endpoints/types.ts";
import type { Scheduler } from "./types.ts";

/**
 * A load-only scheduler: load = gateway in-flight + pod waiting + pod running;
 * lowest load first, random tie-break. Used until the plugin framework is configured.
 */
export function leastLoadScheduler(opts: {
  inflight: InFlight;
  random: Random;
  maxEndpoints?: number;
}): Scheduler {
  const { inflight, random, maxEndpoints = 3 } = opts;
  return {
    schedule(_request, candidates) {
      const scored = candidates.map((e: Endpoint) => ({
        e,
        load: inflight.get(e.name) + e.metrics.waitingQueueSize + e.metrics.runningRequests,
        tie: random(),
      }));
      scored.sort((a, b) => a.load - b.load || a.tie - b.tie);
      return scored.slice(0, maxEndpoints).map((s) => s.e);
    },
  };
}
