import { afterEach, expect, test } from "bun:test";
import { systemClock } from "../../src/clock.ts";
import { BUILTIN_ENGINES } from "../../src/datalayer/engines.ts";
import { createScraper } from "../../src/datalayer/scraper.ts";
import { recorder, startMetricsServer, waitFor } from "./helpers/metrics-server.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

test("a slow server never sees two scrapes of one target at once", async () => {
  const server = startMetricsServer({ delayMs: 120 });
  const rec = recorder();
  const scraper = createScraper({
    clock: systemClock,
    engines: BUILTIN_ENGINES,
    intervalMs: 10,
    timeoutMs: 5000,
    onSnapshot: rec.onSnapshot,
    onError: rec.onError,
  });
  cleanups.push(
    () => scraper.stop(),
    () => server.stop(),
  );
  scraper.setTargets([
    { name: "a", url: server.url("/a/metrics"), engine: "vllm" },
    { name: "b", url: server.url("/b/metrics"), engine: "vllm" },
  ]);
  // Hammer scrapeNow too: it must join the running scrape, not start another.
  const started = performance.now();
  while (rec.count("a") < 4 || rec.count("b") < 4) {
    void scraper.scrapeNow();
    await Bun.sleep(15);
    if (performance.now() - started > 10_000) throw new Error("too slow");
  }
  const elapsed = performance.now() - started;
  for (const path of ["/a/metrics", "/b/metrics"]) {
    const s = server.stats(path);
    expect(s.maxInFlight).toBe(1);
    // Without the guard a 10 ms interval would send ~12 requests per 120 ms response.
    expect(s.requests).toBeLessThanOrEqual(Math.ceil(elapsed / 120) + 2);
  }
  expect(rec.errorCount("a") + rec.errorCount("b")).toBe(0);
}, 15_000);

test("targets do not wait for each other: a slow one does not delay a fast one", async () => {
  const slow = startMetricsServer({ delayMs: 400 });
  const fast = startMetricsServer();
  const rec = recorder();
  const scraper = createScraper({
    clock: systemClock,
    engines: BUILTIN_ENGINES,
    intervalMs: 10,
    onSnapshot: rec.onSnapshot,
  });
  cleanups.push(
    () => scraper.stop(),
    () => slow.stop(),
    () => fast.stop(),
  );
  scraper.setTargets([
    { name: "slow", url: slow.url(), engine: "vllm" },
    { name: "fast", url: fast.url(), engine: "vllm" },
  ]);
  await waitFor(() => rec.count("fast") >= 5, 5000, "fast snapshots");
  expect(rec.count("slow")).toBeLessThanOrEqual(1);
}, 15_000);
