import { afterEach, describe, expect, test } from "bun:test";
import { isLagging, isStale } from "../../src/datalayer/freshness.ts";
import { fakeScraper } from "./helpers/fake-scraper.ts";
import { startMetricsServer, waitFor } from "./helpers/metrics-server.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const STALE_MS = 300;

/** Scrape every 200 ms; late after 400 ms, abandoned after 400 + 300 (as the gateway wires it). */
function setup() {
  const server = startMetricsServer();
  const f = fakeScraper({
    intervalMs: 200,
    timeoutMs: 400,
    abandonAfterMs: 400 + STALE_MS,
    maxBackoffMs: 200,
  });
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
  const stale = () => isStale(view().metrics, now(), STALE_MS, view().scrape);
  const lagging = () => isLagging(view(), now(), STALE_MS);
  return { server, f, view, now, stale, lagging };
}

describe("scrape status", () => {
  test("each scrape reports its start (with when it turns late) and its end", async () => {
    const { f } = setup();
    await f.time.advanceAsync(0);
    await f.untilEnded("a", 1);
    expect(f.statuses.get("a")).toEqual([
      { inFlightSince: 1000, lateAt: 1400, failures: 0 },
      { inFlightSince: undefined, lateAt: undefined, failures: 0 },
    ]);
  });

  test("a late scrape: the pod lags but is not stale, and the late answer still lands", async () => {
    const { server, f, view, now, stale, lagging } = setup();
    await f.time.advanceAsync(0);
    await f.untilEnded("a", 1); // a good snapshot at 1000
    server.behaviour.hold = true; // the pod gets busy: its next answer is late
    await f.time.advanceAsync(200); // scrape 2 starts at 1200: late at 1600, abandoned at 1900
    await waitFor(() => server.held() === 1, 5000, "the late scrape to reach the pod");
    await f.time.advanceAsync(150); // 1350: the snapshot is 350 ms old, past stalenessMs
    expect(isStale(view().metrics, now(), STALE_MS)).toBe(true); // by age alone it would flip
    expect(stale()).toBe(false);
    expect(lagging()).toBe(false);
    await f.time.advanceAsync(300); // 1650: past scrapeTimeoutMs
    expect(stale()).toBe(false);
    expect(lagging()).toBe(true); // late: out of scheduling while fresher pods exist
    expect(f.ended("a")).toBe(1); // not abandoned
    server.release(); // the late answer arrives
    await f.untilEnded("a", 2);
    expect(view().metrics.updatedAt).toBe(1650);
    expect(f.rec.errorCount("a")).toBe(0);
    expect(lagging()).toBe(false);
  });

  test("a pod that stops answering lags once its scrape is late and is stale once it is abandoned", async () => {
    const { server, f, view, stale, lagging } = setup();
    await f.time.advanceAsync(0);
    await f.untilEnded("a", 1);
    server.behaviour.hang = true;
    await f.time.advanceAsync(200); // scrape 2 starts at 1200
    await waitFor(() => server.stats("/metrics").requests === 2, 5000, "the scrape to hang");
    expect(lagging()).toBe(false); // in flight, not late yet
    await f.time.advanceAsync(401); // 1601: late
    expect(lagging()).toBe(true);
    await f.time.advanceAsync(298); // 1899: not yet abandoned
    expect(f.ended("a")).toBe(1);
    expect(stale()).toBe(false);
    await f.time.advanceAsync(1); // 1900: abandoned
    await f.untilEnded("a", 2);
    expect(view().scrape.failures).toBe(1);
    expect((f.rec.errors.get("a")![0] as Error).message).toContain("timed out after 700 ms");
    expect(stale()).toBe(true);
    expect(lagging()).toBe(true);
  });
});
