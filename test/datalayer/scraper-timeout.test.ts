import { afterEach, expect, test } from "bun:test";
import { systemClock } from "../../src/clock.ts";
import { BUILTIN_ENGINES } from "../../src/datalayer/engines.ts";
import { createScraper } from "../../src/datalayer/scraper.ts";
import { type Behaviour, recorder, startMetricsServer, waitFor } from "./helpers/metrics-server.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

test.each<[string, Partial<Behaviour>]>([
  ["no response at all", { hang: true }],
  ["headers sent, body stalls", { stallBody: true }],
])(
  "a scrape that exceeds timeoutMs is aborted (%s)",
  async (_, behaviour) => {
    const server = startMetricsServer(behaviour);
    const rec = recorder();
    const scraper = createScraper({
      clock: systemClock,
      engines: BUILTIN_ENGINES,
      intervalMs: 3_600_000,
      timeoutMs: 100,
      onSnapshot: rec.onSnapshot,
      onError: rec.onError,
    });
    cleanups.push(
      () => scraper.stop(),
      () => server.stop(),
    );
    const t0 = performance.now();
    scraper.setTargets([{ name: "a", url: server.url(), engine: "vllm" }]);
    await scraper.scrapeNow();
    expect(performance.now() - t0).toBeLessThan(3000); // 100 ms plus a noisy machine, far below a hang
    expect(scraper.errors().get("a")).toBe(1);
    const err = rec.errors.get("a")![0] as Error;
    expect(err.name).toBe("TimeoutError");
    expect(err.message).toContain("timed out after 100 ms");
    expect(rec.count("a")).toBe(0);
    await waitFor(() => server.stats("/metrics").aborted === 1, 3000, "the server to see the abort");
  },
  15_000,
);
