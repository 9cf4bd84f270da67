import { afterEach, expect, test } from "bun:test";
import { fakeScraper } from "./helpers/fake-scraper.ts";
import { type Behaviour, startMetricsServer, waitFor } from "./helpers/metrics-server.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

test.each<[string, Partial<Behaviour>]>([
  ["no response at all", { hang: true }],
  ["headers sent, body stalls", { stallBody: true }],
])("a scrape that exceeds timeoutMs is aborted (%s)", async (_, behaviour) => {
  const server = startMetricsServer(behaviour);
  const f = fakeScraper({ intervalMs: 3_600_000, timeoutMs: 100 });
  cleanups.push(
    () => f.scraper.stop(),
    () => server.stop(),
  );
  f.scraper.setTargets([{ name: "a", url: server.url(), engine: "vllm" }]);
  const round = f.scraper.scrapeNow();
  await waitFor(() => server.stats("/metrics").requests === 1, 5000, "the scrape to reach the server");
  await f.time.advanceAsync(99);
  expect(f.ended("a")).toBe(0); // 99 ms: still waiting
  await f.time.advanceAsync(1);
  await round;
  expect(f.scraper.errors().get("a")).toBe(1);
  const err = f.rec.errors.get("a")![0] as Error;
  expect(err.name).toBe("TimeoutError");
  expect(err.message).toContain("timed out after 100 ms");
  expect(f.rec.count("a")).toBe(0);
  await waitFor(() => server.stats("/metrics").aborted === 1, 5000, "the server to see the abort");
});
