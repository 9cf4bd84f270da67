/**
 * The scrape grid is anchored on when each scrape was due, not on when its timer ran: real
 * timers fire late (a fraction of a millisecond idle, more under load), and a grid moved by
 * each lateness drifts, so targets added together spread over the interval and each needs
 * its own wake-up. Fake time with timers that fire late on purpose.
 */
import { describe, expect, test } from "bun:test";
import { seededRandom } from "../../src/clock.ts";
import { BUILTIN_ENGINES } from "../../src/datalayer/engines.ts";
import { createScraper } from "../../src/datalayer/scraper.ts";
import { FakeTime } from "../helpers/fake-time.ts";

const PAGE = "vllm:num_requests_waiting 0\nvllm:num_requests_running 1\nvllm:kv_cache_usage_perc 0.5\n";

/** A scraper on fake time whose every timer fires `late()` ms after it was due; start times per target. */
function lateScraper(late: (ms: number) => number, opts: { failing?: boolean } = {}) {
  const time = new FakeTime();
  const starts = new Map<string, number[]>();
  let snapshots = 0;
  const scraper = createScraper({
    clock: time.clock,
    setTimer: (fn, ms) => time.setTimer(fn, ms + late(ms)),
    intervalMs: 50,
    maxBackoffMs: 400,
    engines: BUILTIN_ENGINES,
    fetch: async (url) => {
      starts.set(url, [...(starts.get(url) ?? []), time.clock.now()]);
      return new Response(PAGE, { status: opts.failing ? 500 : 200 });
    },
    onSnapshot: () => void snapshots++,
    onError: () => {},
  });
  return { time, scraper, starts, snapshots: () => snapshots };
}

/** Offsets of `starts` from the grid 1000 + k * 50 (k = the scrape's index). */
const offsets = (starts: readonly number[]) => starts.map((t, k) => t - (1000 + k * 50));

describe("scraper: the grid does not move with late timers", () => {
  test("a timer 0.7 ms late every tick: every scrape starts 0.7 ms after its grid time", async () => {
    const { time, scraper, starts, snapshots } = lateScraper(() => 0.7);
    scraper.setTargets([{ name: "a", url: "http://a/metrics", engine: "vllm" }]);
    await time.advanceAsync(1000);
    const a = starts.get("http://a/metrics")!;
    expect(a.length).toBe(20);
    expect(snapshots()).toBe(20);
    for (const off of offsets(a)) expect(off).toBeCloseTo(0.7, 9);
    scraper.stop();
  });

  test("targets added together stay due in the same millisecond whatever their timers' lateness", async () => {
    const random = seededRandom(19);
    const { time, scraper, starts } = lateScraper(() => random() * 0.99);
    scraper.setTargets(
      ["a", "b", "c", "d"].map((name) => ({ name, url: `http://${name}/metrics`, engine: "vllm" })),
    );
    await time.advanceAsync(2000);
    const all = ["a", "b", "c", "d"].map((n) => starts.get(`http://${n}/metrics`)!);
    for (const s of all) {
      expect(s.length).toBe(40);
      for (const off of offsets(s)) {
        expect(off).toBeGreaterThanOrEqual(0);
        expect(off).toBeLessThan(1);
      }
    }
    scraper.stop();
    expect(time.pending).toBe(0);
  });

  test("targets due in the same millisecond start in one wake-up, whichever timer fires first", async () => {
    const random = seededRandom(7);
    const { time, scraper, starts } = lateScraper(() => random() * 0.99);
    const names = ["a", "b", "c", "d"];
    scraper.setTargets(names.map((name) => ({ name, url: `http://${name}/metrics`, engine: "vllm" })));
    await time.advanceAsync(2000);
    const all = names.map((n) => starts.get(`http://${n}/metrics`)!);
    // Each tick's four scrapes start at one time: the earliest of their four timers.
    for (let k = 0; k < 40; k++) expect(new Set(all.map((s) => s[k])).size).toBe(1);
    scraper.stop();
  });

  test("a timer that fires early (its delay truncated, as runtimes do) does not pull the grid earlier", async () => {
    // Fires whole milliseconds after it was armed, plus 0.3 ms to wake up: before its time when
    // armed at a fractional time.
    const { time, scraper, starts } = lateScraper((ms) => Math.trunc(ms) - ms + 0.3);
    scraper.setTargets([{ name: "a", url: "http://a/metrics", engine: "vllm" }]);
    await time.advanceAsync(2000);
    const a = starts.get("http://a/metrics")!.slice(0, 40);
    expect(a.length).toBe(40);
    for (const off of offsets(a)) expect(Math.abs(off)).toBeLessThan(1);
    scraper.stop();
  });

  test("a timer late by more than an interval skips the ticks it overlapped, then the grid goes on", async () => {
    let ticks = 0;
    // The first tick after the first scrape (not the scrape's abandon timer) fires 120 ms late.
    const { time, scraper, starts } = lateScraper((ms) => (ms === 50 && ++ticks === 1 ? 120 : 0));
    scraper.setTargets([{ name: "a", url: "http://a/metrics", engine: "vllm" }]);
    await time.advanceAsync(300);
    expect(starts.get("http://a/metrics")).toEqual([1000, 1170, 1200, 1250, 1300]);
    scraper.stop();
  });

  test("failure back-off counts from when the scrape was due, so a late timer does not push it", async () => {
    const { time, scraper, starts } = lateScraper(() => 0.5, { failing: true });
    scraper.setTargets([{ name: "a", url: "http://a/metrics", engine: "vllm" }]);
    await time.advanceAsync(1600);
    // Due at 1000, then 100, 200, 400 and 400 (capped) after each failed scrape was due.
    expect(starts.get("http://a/metrics")).toEqual([1000.5, 1100.5, 1300.5, 1700.5, 2100.5, 2500.5]);
    scraper.stop();
  });
});
