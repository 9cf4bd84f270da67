import { afterEach, describe, expect, test } from "bun:test";
import { nextDelay } from "../../src/datalayer/scraper.ts";
import { fakeScraper } from "./helpers/fake-scraper.ts";
import { startMetricsServer, VLLM_BODY } from "./helpers/metrics-server.ts";

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

describe("scraper: back-off (fake time)", () => {
  test("a failing target is retried with exponential back-off, reset on success", async () => {
    const server = startMetricsServer({ status: 500, body: "boom" });
    const f = fakeScraper({ intervalMs: 10, maxBackoffMs: 160 });
    cleanups.push(
      () => f.scraper.stop(),
      () => server.stop(),
    );
    const url = server.url();
    f.scraper.setTargets([{ name: "a", url, engine: "vllm" }]);
    await f.time.advanceAsync(0);
    expect(f.fetches(url)).toBe(1);
    // Each failure doubles the wait: 20, 40, 80, then the 160 ms cap.
    for (const [n, wait] of [
      [1, 20],
      [2, 40],
      [3, 80],
      [4, 160],
      [5, 160],
    ] as const) {
      await f.untilEnded("a", n);
      await f.time.advanceAsync(wait - 1);
      expect(f.fetches(url)).toBe(n); // not yet
      await f.time.advanceAsync(1);
      expect(f.fetches(url)).toBe(n + 1);
    }
    await f.untilEnded("a", 6);
    expect(f.scraper.errors().get("a")).toBe(6);
    expect(String(f.rec.errors.get("a")![0])).toContain("HTTP 500");
    expect(f.rec.count("a")).toBe(0);

    server.behaviour.status = 200;
    server.behaviour.body = VLLM_BODY(1);
    await f.time.advanceAsync(160);
    await f.untilEnded("a", 7);
    expect(f.rec.count("a")).toBe(1);
    // One success resets the back-off: back to a scrape every 10 ms.
    for (let n = 8; n <= 10; n++) {
      await f.time.advanceAsync(10);
      await f.untilEnded("a", n);
    }
    expect(f.fetches(url)).toBe(10);
    expect(f.rec.count("a")).toBe(4);
    expect(f.scraper.errors().get("a")).toBe(6); // the cumulative count stays
  });

  test("a refused connection counts as a failure too", async () => {
    const server = startMetricsServer();
    const url = server.url();
    server.stop(); // nothing listens on that port any more
    const f = fakeScraper({ intervalMs: 10, maxBackoffMs: 100 });
    cleanups.push(() => f.scraper.stop());
    f.scraper.setTargets([{ name: "a", url, engine: "vllm" }]);
    await f.time.advanceAsync(0);
    await f.untilEnded("a", 1);
    await f.time.advanceAsync(20);
    await f.untilEnded("a", 2);
    expect(f.scraper.errors().get("a")).toBe(2);
    expect(f.rec.errorCount("a")).toBe(2);
  });

  test("a scrape that timed out is retried at once: the back-off counts from its start", async () => {
    const server = startMetricsServer({ hang: true });
    const f = fakeScraper({ intervalMs: 50, timeoutMs: 1000, maxBackoffMs: 5000 });
    cleanups.push(
      () => f.scraper.stop(),
      () => server.stop(),
    );
    const url = server.url();
    f.scraper.setTargets([{ name: "a", url, engine: "vllm" }]);
    await f.time.advanceAsync(0);
    await f.time.advanceAsync(1000); // the timeout aborts the hung scrape
    await f.untilEnded("a", 1);
    await f.time.advanceAsync(0);
    // The 100 ms back-off was used up by the 1000 ms the scrape took: no extra wait.
    expect(f.fetches(url)).toBe(2);
  });
});
