import { afterEach, describe, expect, test } from "bun:test";
import { systemClock } from "../../src/clock.ts";
import { BUILTIN_ENGINES } from "../../src/datalayer/engines.ts";
import { createScraper, type Scraper, type ScraperOptions } from "../../src/datalayer/scraper.ts";
import { recorder, startMetricsServer, VLLM_BODY, waitFor } from "./helpers/metrics-server.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function setup(opts: Partial<ScraperOptions> = {}) {
  const server = startMetricsServer();
  const rec = recorder();
  const scraper: Scraper = createScraper({
    clock: systemClock,
    engines: BUILTIN_ENGINES,
    onSnapshot: rec.onSnapshot,
    onError: rec.onError,
    ...opts,
  });
  cleanups.push(
    () => scraper.stop(),
    () => server.stop(),
  );
  return { server, rec, scraper };
}

const HOUR = 3_600_000;

describe("scraper: snapshots", () => {
  test("snapshots arrive repeatedly at the interval", async () => {
    const { server, rec, scraper } = setup({ intervalMs: 20 });
    scraper.setTargets([{ name: "a", url: server.url("/a/metrics"), engine: "vllm" }]);
    await waitFor(() => rec.count("a") >= 3, 5000, "3 snapshots");
    const last = rec.snapshots.get("a")!.at(-1)!;
    expect(last).toMatchObject({ waitingQueueSize: 2, runningRequests: 1, kvCacheUsage: 0.25 });
    expect(last.updatedAt).toBeGreaterThan(0);
    expect(Object.isFrozen(last)).toBe(true);
    expect(scraper.errors().get("a")).toBe(0);
  });

  test("scrapeNow runs one round over every target", async () => {
    const clock = { now: () => 4242 };
    const { server, rec, scraper } = setup({ intervalMs: HOUR, clock });
    scraper.setTargets([
      { name: "a", url: server.url("/a/metrics"), engine: "vllm" },
      { name: "b", url: server.url("/b/metrics"), engine: "vllm" },
    ]);
    await scraper.scrapeNow(); // joins the first scrapes started by setTargets, never doubles them
    expect(rec.count("a")).toBe(1);
    expect(rec.count("b")).toBe(1);
    expect(rec.snapshots.get("a")![0]!.updatedAt).toBe(4242);
    server.behaviour.body = VLLM_BODY(9);
    await scraper.scrapeNow();
    expect(rec.snapshots.get("b")!.at(-1)!.waitingQueueSize).toBe(9);
    expect(server.stats("/a/metrics").requests).toBe(2);
  });

  test("setTargets adds a target without disturbing existing ones", async () => {
    const { server, rec, scraper } = setup({ intervalMs: HOUR });
    const a = { name: "a", url: server.url("/a/metrics"), engine: "vllm" };
    scraper.setTargets([a]);
    await waitFor(() => rec.count("a") === 1, 5000, "first scrape of a");
    scraper.setTargets([a, { name: "b", url: server.url("/b/metrics"), engine: "vllm" }]);
    await waitFor(() => rec.count("b") === 1, 5000, "first scrape of b");
    await Bun.sleep(50);
    expect(server.stats("/a/metrics").requests).toBe(1); // a's hour-long timer was left alone
    expect([...scraper.errors().keys()].sort()).toEqual(["a", "b"]);
  });

  test("setTargets removes a target: no more scrapes, no more callbacks", async () => {
    const { server, rec, scraper } = setup({ intervalMs: 10 });
    const b = { name: "b", url: server.url("/b/metrics"), engine: "vllm" };
    scraper.setTargets([{ name: "a", url: server.url("/a/metrics"), engine: "vllm" }, b]);
    await waitFor(() => rec.count("a") >= 2 && rec.count("b") >= 2, 5000, "both scraped");
    scraper.setTargets([b]);
    const requests = server.stats("/a/metrics").requests;
    const callbacks = rec.count("a");
    const bBefore = rec.count("b");
    await Bun.sleep(200);
    expect(server.stats("/a/metrics").requests).toBeLessThanOrEqual(requests + 1); // one may be on the wire
    expect(rec.count("a")).toBe(callbacks);
    expect(rec.count("b")).toBeGreaterThan(bBefore);
    expect([...scraper.errors().keys()]).toEqual(["b"]);
    expect(rec.errorCount("a")).toBe(0); // the aborted scrape is not an error
  });

  test("a changed URL is used from the next scrape, keeping the target", async () => {
    const { server, rec, scraper } = setup({ intervalMs: HOUR });
    scraper.setTargets([{ name: "a", url: server.url("/old/metrics"), engine: "vllm" }]);
    await waitFor(() => rec.count("a") === 1);
    scraper.setTargets([{ name: "a", url: server.url("/new/metrics"), engine: "vllm" }]);
    await scraper.scrapeNow();
    expect(server.stats("/old/metrics").requests).toBe(1);
    expect(server.stats("/new/metrics").requests).toBe(1);
  });

  test("stop() stops every timer and callback", async () => {
    const { server, rec, scraper } = setup({ intervalMs: 10 });
    scraper.setTargets([
      { name: "a", url: server.url("/a/metrics"), engine: "vllm" },
      { name: "b", url: server.url("/b/metrics"), engine: "vllm" },
    ]);
    await waitFor(() => rec.count("a") >= 2 && rec.count("b") >= 2);
    scraper.stop();
    const total = () => server.stats("/a/metrics").requests + server.stats("/b/metrics").requests;
    const requests = total();
    const callbacks = rec.count("a") + rec.count("b");
    await Bun.sleep(250);
    expect(total()).toBeLessThanOrEqual(requests + 2);
    expect(rec.count("a") + rec.count("b")).toBe(callbacks);
    scraper.setTargets([{ name: "c", url: server.url("/c/metrics"), engine: "vllm" }]); // ignored after stop
    await Bun.sleep(50);
    expect(server.stats("/c/metrics").requests).toBe(0);
  });
});

describe("scraper: errors users can act on", () => {
  test("an unknown engine is an error that names the known ones", async () => {
    const { server, rec, scraper } = setup({ intervalMs: HOUR });
    scraper.setTargets([{ name: "a", url: server.url(), engine: "vlm" }]);
    await scraper.scrapeNow();
    expect(scraper.errors().get("a")).toBe(1);
    expect(String(rec.errors.get("a")![0])).toContain('unknown engine "vlm"; known engines: vllm, sglang');
    expect(server.stats("/metrics").requests).toBe(0);
  });

  test("an exposition without any mapped metric is an error (wrong engine label?)", async () => {
    const { server, rec, scraper } = setup({ intervalMs: HOUR });
    server.behaviour.body = "sglang:num_queue_reqs 3\n";
    scraper.setTargets([{ name: "a", url: server.url(), engine: "vllm" }]);
    await scraper.scrapeNow();
    expect(rec.count("a")).toBe(0);
    expect(String(rec.errors.get("a")![0])).toContain('none of the "vllm" metrics found');
  });

  test("a throwing onSnapshot is reported, not fatal", async () => {
    const rec = recorder();
    const { server, scraper } = setup({
      intervalMs: 10,
      onSnapshot: () => {
        throw new Error("consumer bug");
      },
      onError: rec.onError,
    });
    scraper.setTargets([{ name: "a", url: server.url(), engine: "vllm" }]);
    await waitFor(() => rec.errorCount("a") >= 3);
    expect(String(rec.errors.get("a")![0])).toContain("consumer bug");
    expect(scraper.errors().get("a")).toBe(0); // the scrapes themselves succeeded
  });

  test.each([
    ["intervalMs", { intervalMs: 0 }],
    ["timeoutMs", { timeoutMs: -1 }],
    ["maxBackoffMs", { maxBackoffMs: Number.NaN }],
  ])("rejects a non-positive %s", (field, opts) => {
    expect(() =>
      createScraper({ clock: systemClock, engines: BUILTIN_ENGINES, onSnapshot: () => {}, ...opts }),
    ).toThrow(field);
  });
});
