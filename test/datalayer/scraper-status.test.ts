import { afterEach, describe, expect, test } from "bun:test";
import { isLagging, isStale } from "../../src/datalayer/freshness.ts";
import { fakeScraper } from "./helpers/fake-scraper.ts";
import { startMetricsServer, waitFor } from "./helpers/metrics-server.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** Stale after 300 ms; scrape every 200 ms with a 400 ms timeout (interval + timeout > staleness). */
function setup() {
  const server = startMetricsServer();
  const f = fakeScraper({ intervalMs: 200, timeoutMs: 400, maxBackoffMs: 200 });
  cleanups.push(
    () => f.scraper.stop(),
    () => server.release(),
    () => server.stop(),
  );
  f.scraper.setTargets([{ name: "a", url: server.url(), engine: "vllm" }]);
  const view = () => ({
    metrics: f.rec.snapshots.get("a")!.at(-1)!,
    scrape: f.statuses.get("a")!.at(-1)!,
  });
  const now = () => f.time.clock.now();
  return { server, f, view, now };
}

describe("scrape status", () => {
  test("each scrape reports its start (with its deadline) and its end", async () => {
    const { f } = setup();
    await f.time.advanceAsync(0);
    await f.untilEnded("a", 1);
    expect(f.statuses.get("a")).toEqual([
      { inFlightSince: 1000, deadline: 1400, failures: 0 },
      { inFlightSince: undefined, deadline: undefined, failures: 0 },
    ]);
  });

  test("a late scrape keeps the pod fresh until its deadline; its answer refreshes it", async () => {
    const { server, f, view, now } = setup();
    await f.time.advanceAsync(0);
    await f.untilEnded("a", 1); // a good snapshot at 1000
    server.behaviour.hold = true; // the pod gets busy: its next answers are late
    await f.time.advanceAsync(200); // scrape 2 starts at 1200, deadline 1600
    await waitFor(() => server.held() === 1, 5000, "the late scrape to reach the pod");
    await f.time.advanceAsync(150); // 1350: the snapshot is 350 ms old, past stalenessMs 300
    expect(isStale(view().metrics, now(), 300)).toBe(true); // by age alone it would flip
    expect(isStale(view().metrics, now(), 300, view().scrape)).toBe(false);
    expect(isLagging(view(), now(), 300)).toBe(false);
    server.release(); // the late answer arrives
    await f.untilEnded("a", 2);
    expect(view().metrics.updatedAt).toBe(1350);
    expect(isLagging(view(), now(), 300)).toBe(false);
  });

  test("a pod that stops answering lags as soon as a scrape times out, and goes stale", async () => {
    const { server, f, view, now } = setup();
    await f.time.advanceAsync(0);
    await f.untilEnded("a", 1);
    server.behaviour.hang = true;
    await f.time.advanceAsync(200); // scrape 2 starts at 1200
    await waitFor(() => server.stats("/metrics").requests === 2, 5000, "the scrape to hang");
    expect(isLagging(view(), now(), 2000)).toBe(false); // in flight, not late yet
    await f.time.advanceAsync(400); // 1600: timed out
    await f.untilEnded("a", 2);
    expect(view().scrape.failures).toBe(1);
    expect(isLagging(view(), now(), 2000)).toBe(true); // fresh by age, but its scrape failed
    expect(isStale(view().metrics, now(), 300, view().scrape)).toBe(true);
  });
});
