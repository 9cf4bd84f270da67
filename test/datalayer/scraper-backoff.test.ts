import { afterEach, describe, expect, test } from "bun:test";
import { systemClock } from "../../src/clock.ts";
import { BUILTIN_ENGINES } from "../../src/datalayer/engines.ts";
import { createScraper, nextDelay } from "../../src/datalayer/scraper.ts";
import { recorder, startMetricsServer, VLLM_BODY, waitFor } from "./helpers/metrics-server.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe("nextDelay", () => {
  const cases: [string, number, number, number][] = [
    // name, failures, elapsedMs, want (interval 50, max back-off 5000)
    ["fast scrape: rest of the interval", 0, 12, 38],
    ["instant scrape: a full interval", 0, 0, 50],
    ["slow scrape skips overlapped ticks", 0, 120, 30],
    ["scrape exactly one interval long", 0, 50, 50],
    ["clock went backwards", 0, -5, 50],
    ["1 failure, instant", 1, 0, 100],
    ["1 failure: back-off counts from the scrape's start", 1, 3, 97],
    ["2 failures", 2, 3, 197],
    ["6 failures", 6, 3, 3197],
    ["7 failures: capped", 7, 3, 4997],
    ["50 failures: capped", 50, 0, 5000],
    ["a timed-out scrape is retried at once", 1, 1000, 0],
    ["a timed-out scrape after 7 failures waits out the cap", 7, 1000, 4000],
  ];
  test.each(cases)("%s", (_, failures, elapsedMs, want) => {
    expect(nextDelay({ intervalMs: 50, maxBackoffMs: 5000, failures, elapsedMs })).toBe(want);
  });
});

describe("scraper: back-off", () => {
  test("a failing target is retried with exponential back-off, reset on success", async () => {
    const server = startMetricsServer({ status: 500, body: "boom" });
    const rec = recorder();
    const scraper = createScraper({
      clock: systemClock,
      engines: BUILTIN_ENGINES,
      intervalMs: 10,
      maxBackoffMs: 160,
      onSnapshot: rec.onSnapshot,
      onError: rec.onError,
    });
    cleanups.push(
      () => scraper.stop(),
      () => server.stop(),
    );
    scraper.setTargets([{ name: "a", url: server.url(), engine: "vllm" }]);

    const window = 1200;
    await Bun.sleep(window);
    const failed = server.stats("/metrics").requests;
    // Without back-off: ~120 attempts. With it: 0, +20, +40, +80, then every 160 ms => about 10.
    expect(failed).toBeGreaterThanOrEqual(3);
    expect(failed).toBeLessThanOrEqual(20);
    expect(scraper.errors().get("a")).toBeGreaterThanOrEqual(failed - 1); // one may still be in flight
    expect(String(rec.errors.get("a")![0])).toContain("HTTP 500");
    expect(rec.count("a")).toBe(0);

    server.behaviour.status = 200;
    server.behaviour.body = VLLM_BODY(1);
    await waitFor(() => rec.count("a") >= 1, 5000, "recovery");
    const recovered = server.stats("/metrics").requests;
    await Bun.sleep(400);
    // Back to the 10 ms interval: far more than the ~2-3 attempts back-off would allow.
    expect(server.stats("/metrics").requests - recovered).toBeGreaterThanOrEqual(8);
    expect(scraper.errors().get("a")).toBe(rec.errorCount("a")); // cumulative count stays
  }, 15_000);

  test("a refused connection counts as a failure too", async () => {
    const server = startMetricsServer();
    const url = server.url();
    server.stop(); // nothing listens on that port any more
    const rec = recorder();
    const scraper = createScraper({
      clock: systemClock,
      engines: BUILTIN_ENGINES,
      intervalMs: 10,
      maxBackoffMs: 100,
      onSnapshot: rec.onSnapshot,
      onError: rec.onError,
    });
    cleanups.push(() => scraper.stop());
    scraper.setTargets([{ name: "a", url, engine: "vllm" }]);
    await waitFor(() => rec.errorCount("a") >= 2, 5000, "two failures");
    expect(scraper.errors().get("a")).toBeGreaterThanOrEqual(2);
  }, 15_000);
});
