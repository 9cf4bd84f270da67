import { afterEach, expect, test } from "bun:test";
import { fakeScraper } from "./helpers/fake-scraper.ts";
import { startMetricsServer, waitFor } from "./helpers/metrics-server.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

test("a slow server never sees two scrapes of one target at once", async () => {
  const server = startMetricsServer({ hold: true });
  const f = fakeScraper({ intervalMs: 10, timeoutMs: 5000 });
  cleanups.push(
    () => f.scraper.stop(),
    () => server.stop(),
  );
  const a = server.url("/a/metrics");
  const b = server.url("/b/metrics");
  f.scraper.setTargets([
    { name: "a", url: a, engine: "vllm" },
    { name: "b", url: b, engine: "vllm" },
  ]);
  for (let round = 1; round <= 3; round++) {
    // 120 ms of ticks and scrapeNow calls while both answers are held: each must join the
    // running scrape (without the guard a 10 ms interval would start 12 more).
    for (let i = 0; i < 12; i++) {
      void f.scraper.scrapeNow();
      await f.time.advanceAsync(10);
    }
    await waitFor(() => server.held() === 2, 5000, "both scrapes to be held");
    expect(f.fetches(a)).toBe(round);
    expect(f.fetches(b)).toBe(round);
    server.release();
    await f.untilEnded("a", round);
    await f.untilEnded("b", round);
  }
  expect(server.stats("/a/metrics").maxInFlight).toBe(1);
  expect(server.stats("/b/metrics").maxInFlight).toBe(1);
  expect(f.rec.errorCount("a") + f.rec.errorCount("b")).toBe(0);
});

test("targets do not wait for each other: a slow one does not delay a fast one", async () => {
  const slow = startMetricsServer({ hold: true });
  const fast = startMetricsServer();
  const f = fakeScraper({ intervalMs: 10 });
  cleanups.push(
    () => f.scraper.stop(),
    () => slow.release(),
    () => slow.stop(),
    () => fast.stop(),
  );
  f.scraper.setTargets([
    { name: "slow", url: slow.url(), engine: "vllm" },
    { name: "fast", url: fast.url(), engine: "vllm" },
  ]);
  await f.time.advanceAsync(0);
  for (let n = 1; n <= 5; n++) {
    await f.untilEnded("fast", n);
    await f.time.advanceAsync(10);
  }
  expect(f.rec.count("fast")).toBeGreaterThanOrEqual(5);
  expect(f.rec.count("slow")).toBe(0);
  expect(f.fetches(slow.url())).toBe(1);
});
