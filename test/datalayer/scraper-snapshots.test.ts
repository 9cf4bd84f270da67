import { afterEach, describe, expect, test } from "bun:test";
import { systemClock } from "../../src/clock.ts";
import { BUILTIN_ENGINES } from "../../src/datalayer/engines.ts";
import { createScraper, type ScraperOptions } from "../../src/datalayer/scraper.ts";
import { fakeScraper } from "./helpers/fake-scraper.ts";
import { recorder, startMetricsServer, VLLM_BODY, waitFor } from "./helpers/metrics-server.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A scraper on fake time (see helpers/fake-scraper.ts) and one loopback metrics server. */
function setup(opts: Partial<ScraperOptions> = {}) {
  const server = startMetricsServer();
  const f = fakeScraper(opts);
  cleanups.push(
    () => f.scraper.stop(),
    () => server.stop(),
  );
  return { server, ...f };
}

const HOUR = 3_600_000;

describe("scraper: snapshots", () => {
  test("snapshots arrive at the interval, stamped with the clock", async () => {
    const { server, rec, scraper, time, fetches, untilEnded } = setup({ intervalMs: 20 });
    const url = server.url("/a/metrics");
    scraper.setTargets([{ name: "a", url, engine: "vllm" }]);
    await time.advanceAsync(0);
    await untilEnded("a", 1);
    for (let n = 2; n <= 3; n++) {
      await time.advanceAsync(19);
      expect(fetches(url)).toBe(n - 1);
      await time.advanceAsync(1);
      await untilEnded("a", n);
    }
    const snaps = rec.snapshots.get("a")!;
    expect(snaps.map((s) => s.updatedAt)).toEqual([1000, 1020, 1040]);
    expect(snaps.at(-1)).toMatchObject({ waitingQueueSize: 2, runningRequests: 1, kvCacheUsage: 0.25 });
    expect(Object.isFrozen(snaps.at(-1))).toBe(true);
    expect(scraper.errors().get("a")).toBe(0);
  });

  test("scrapeNow runs one round over every target", async () => {
    const { server, rec, scraper } = setup({ intervalMs: HOUR });
    scraper.setTargets([
      { name: "a", url: server.url("/a/metrics"), engine: "vllm" },
      { name: "b", url: server.url("/b/metrics"), engine: "vllm" },
    ]);
    await scraper.scrapeNow();
    expect(rec.count("a")).toBe(1);
    expect(rec.count("b")).toBe(1);
    expect(rec.snapshots.get("a")![0]!.updatedAt).toBe(1000);
    server.behaviour.body = VLLM_BODY(9);
    await scraper.scrapeNow();
    expect(rec.snapshots.get("b")!.at(-1)!.waitingQueueSize).toBe(9);
    expect(server.stats("/a/metrics").requests).toBe(2);
  });

  test("setTargets adds a target without disturbing existing ones", async () => {
    const { server, scraper, time, fetches, untilEnded } = setup({ intervalMs: HOUR });
    const a = { name: "a", url: server.url("/a/metrics"), engine: "vllm" };
    scraper.setTargets([a]);
    await time.advanceAsync(0);
    await untilEnded("a", 1);
    scraper.setTargets([a, { name: "b", url: server.url("/b/metrics"), engine: "vllm" }]);
    await time.advanceAsync(0);
    await untilEnded("b", 1);
    expect(fetches(a.url)).toBe(1); // a's hour-long timer was left alone
    await time.advanceAsync(HOUR - 1);
    expect(fetches(a.url)).toBe(1);
    await time.advanceAsync(1);
    expect(fetches(a.url)).toBe(2); // still on its own grid
    expect([...scraper.errors().keys()].sort()).toEqual(["a", "b"]);
  });

  test("setTargets removes a target: no more scrapes, no more callbacks", async () => {
    const { server, rec, scraper, time, fetches, untilEnded } = setup({ intervalMs: 10 });
    const a = server.url("/a/metrics");
    const b = { name: "b", url: server.url("/b/metrics"), engine: "vllm" };
    scraper.setTargets([{ name: "a", url: a, engine: "vllm" }, b]);
    await time.advanceAsync(0);
    await untilEnded("a", 1);
    await untilEnded("b", 1);
    server.behaviour.hold = true; // a's next scrape will be on the wire when it is removed
    await time.advanceAsync(10);
    expect(fetches(a)).toBe(2);
    scraper.setTargets([b]);
    server.behaviour.hold = false;
    server.release();
    for (let n = 2; n <= 5; n++) {
      await untilEnded("b", n);
      await time.advanceAsync(10);
    }
    expect(fetches(a)).toBe(2);
    expect(rec.count("a")).toBe(1);
    expect(rec.errorCount("a")).toBe(0); // the aborted scrape is not an error
    expect([...scraper.errors().keys()]).toEqual(["b"]);
  });

  test("a changed URL is used from the next scrape, keeping the target", async () => {
    const { server, scraper } = setup({ intervalMs: HOUR });
    scraper.setTargets([{ name: "a", url: server.url("/old/metrics"), engine: "vllm" }]);
    await scraper.scrapeNow();
    scraper.setTargets([{ name: "a", url: server.url("/new/metrics"), engine: "vllm" }]);
    await scraper.scrapeNow();
    expect(server.stats("/old/metrics").requests).toBe(1);
    expect(server.stats("/new/metrics").requests).toBe(1);
  });

  test("stop() stops every timer and callback", async () => {
    const { server, rec, scraper, time, untilEnded } = setup({ intervalMs: 10 });
    scraper.setTargets([
      { name: "a", url: server.url("/a/metrics"), engine: "vllm" },
      { name: "b", url: server.url("/b/metrics"), engine: "vllm" },
    ]);
    await time.advanceAsync(0);
    await untilEnded("a", 1);
    await untilEnded("b", 1);
    await time.advanceAsync(0); // let the next ticks be armed
    expect(time.pending).toBe(1); // both due in the same millisecond: one timer (fourteenth pass)
    scraper.stop();
    expect(time.pending).toBe(0);
    await time.advanceAsync(1000);
    expect(server.stats("/a/metrics").requests + server.stats("/b/metrics").requests).toBe(2);
    expect(rec.count("a") + rec.count("b")).toBe(2);
    scraper.setTargets([{ name: "c", url: server.url("/c/metrics"), engine: "vllm" }]); // ignored after stop
    expect(time.pending).toBe(0);
    await scraper.scrapeNow();
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
    const { server, scraper, time } = setup({
      intervalMs: 10,
      onSnapshot: () => {
        throw new Error("consumer bug");
      },
      onError: rec.onError,
    });
    scraper.setTargets([{ name: "a", url: server.url(), engine: "vllm" }]);
    await time.advanceAsync(0);
    for (let n = 1; n <= 3; n++) {
      await waitFor(() => rec.errorCount("a") >= n, 5000, `error ${n}`);
      await time.advanceAsync(10);
    }
    expect(String(rec.errors.get("a")![0])).toContain("consumer bug");
    expect(scraper.errors().get("a")).toBe(0); // the scrapes themselves succeeded
  });

  test.each([
    ["intervalMs", { intervalMs: 0 }],
    ["timeoutMs", { timeoutMs: -1 }],
    ["maxBackoffMs", { maxBackoffMs: Number.NaN }],
    ["abandonAfterMs", { abandonAfterMs: 0 }],
  ])("rejects a non-positive %s", (field, opts) => {
    expect(() =>
      createScraper({ clock: systemClock, engines: BUILTIN_ENGINES, onSnapshot: () => {}, ...opts }),
    ).toThrow(field);
  });
});
