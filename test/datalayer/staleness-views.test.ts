import { describe, expect, test } from "bun:test";
import { utilizationFilter } from "../../plugins/utilization-filter.ts";
import type { Endpoint, ScrapeStatus } from "../../src/endpoints/types.ts";
import { createGateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { testConfig } from "../helpers/config.ts";
import { FakeTime } from "../helpers/fake-time.ts";
import { context, endpoint, NOW } from "../scheduling/helpers.ts";

/**
 * Every view of "are this pod's metrics usable" follows the data layer's rule
 * (src/datalayer/freshness.ts): a snapshot older than the staleness limit stays usable
 * while a scrape is in flight with no failure since the last success; a late or failing
 * scrape makes the pod lag (it leaves scheduling and is not ready).
 */
const IN_FLIGHT: ScrapeStatus = { inFlightSince: NOW - 100, lateAt: NOW + 900, failures: 0 };
const FAILED: ScrapeStatus = { inFlightSince: undefined, lateAt: undefined, failures: 1 };

const withScrape = (e: Endpoint, scrape: ScrapeStatus): Endpoint => ({ ...e, scrape });

describe("the utilization filter uses the data layer's staleness rule", () => {
  test("an old snapshot with a scrape in flight and no failure is kept", () => {
    const eps = [
      withScrape(endpoint("slow-scrape", { updatedAt: NOW - 3_000 }), IN_FLIGHT),
      withScrape(endpoint("failed", { updatedAt: NOW - 3_000 }), FAILED),
      endpoint("fresh"),
    ];
    const kept = utilizationFilter()
      .filter(context(), eps)
      .map((e) => e.name);
    expect(kept).toEqual(["slow-scrape", "fresh"]);
  });
});

describe("inference_pool_ready_pods counts pods that do not lag and are not ejected", () => {
  test("a late scrape or a failed one leaves the ready count; an in-flight one on time does not", async () => {
    const time = new FakeTime();
    time.advance(10_000);
    const names = ["on-time", "late", "failed"];
    const gw = createGateway({
      config: testConfig({
        endpoints: names.map((n, i) => ({ name: n, address: `10.0.0.${i + 1}:8000`, models: ["m"] })),
      }),
      logger: silentLogger(),
      clock: time.clock,
      setTimer: time.setTimer,
    });
    const now = time.clock.now();
    for (const n of names)
      gw.deps.endpoints.setMetrics(n, {
        waitingQueueSize: 0,
        runningRequests: 0,
        kvCacheUsage: 0,
        updatedAt: now - 3_000,
      });
    gw.deps.endpoints.setScrapeStatus("on-time", {
      inFlightSince: now - 100,
      lateAt: now + 900,
      failures: 0,
    });
    gw.deps.endpoints.setScrapeStatus("late", { inFlightSince: now - 1_500, lateAt: now - 500, failures: 0 });
    gw.deps.endpoints.setScrapeStatus("failed", { inFlightSince: undefined, lateAt: undefined, failures: 2 });
    const text = await (await gw.fetch(new Request("http://gw/metrics"))).text();
    expect(text).toMatch(/^inference_pool_ready_pods\{[^}]*\} 1$/m);
    await gw.stop();
  });
});
