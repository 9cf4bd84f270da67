import { describe, expect, test } from "bun:test";
import { isLagging, isLate, isStale, preferFresh } from "../../src/datalayer/freshness.ts";
import { EMPTY_METRICS, type MetricsSnapshot, type ScrapeStatus } from "../../src/endpoints/types.ts";

const at = (updatedAt: number): MetricsSnapshot => ({ ...EMPTY_METRICS, updatedAt });
const idle = (failures = 0): ScrapeStatus => ({ inFlightSince: undefined, lateAt: undefined, failures });
const inFlight = (since: number, timeoutMs: number, failures = 0): ScrapeStatus => ({
  inFlightSince: since,
  lateAt: since + timeoutMs,
  failures,
});

describe("isStale by age (no scrape status)", () => {
  const cases: [string, MetricsSnapshot, number, number | undefined, boolean][] = [
    ["never scraped", EMPTY_METRICS, 10, undefined, true],
    ["never scraped, even at time 0", EMPTY_METRICS, 0, undefined, true],
    ["fresh", at(1000), 1500, undefined, false],
    ["exactly at the 2 s default", at(1000), 3000, undefined, false],
    ["just past the 2 s default", at(1000), 3001, undefined, true],
    ["custom threshold, fresh", at(1000), 1400, 500, false],
    ["custom threshold, stale", at(1000), 1600, 500, true],
  ];
  test.each(cases)("%s", (_, snapshot, now, stalenessMs, want) => {
    expect(stalenessMs === undefined ? isStale(snapshot, now) : isStale(snapshot, now, stalenessMs)).toBe(
      want,
    );
  });
});

describe("isStale with a scrape status: a late scrape is not a dead pod", () => {
  // Last good scrape answered at 1000; stalenessMs 2000; scrape timeout 1000.
  const cases: [string, ScrapeStatus, number, boolean][] = [
    ["past stalenessMs, nothing in flight", idle(), 3001, true],
    ["past stalenessMs, a scrape in flight", inFlight(2500, 1000), 3001, false],
    [
      "past stalenessMs, a late scrape in flight (the scraper bounds how long)",
      inFlight(1500, 1000),
      3400,
      false,
    ],
    ["in flight, but the previous scrape failed", inFlight(2500, 1000, 1), 3001, true],
    ["before stalenessMs a failure alone does not make it stale", idle(1), 2500, false],
  ];
  test.each(cases)("%s", (_, scrape, now, want) => {
    expect(isStale(at(1000), now, 2000, scrape)).toBe(want);
  });

  test("never scraped stays stale even with a scrape in flight", () => {
    expect(isStale(EMPTY_METRICS, 10, 2000, inFlight(0, 1000))).toBe(true);
  });
});

describe("isLate", () => {
  test.each<[string, ScrapeStatus | undefined, number, boolean]>([
    ["no status", undefined, 5000, false],
    ["nothing in flight", idle(), 5000, false],
    ["in flight, before lateAt", inFlight(1000, 1000), 1999, false],
    ["in flight, at lateAt", inFlight(1000, 1000), 2000, false],
    ["in flight, past lateAt", inFlight(1000, 1000), 2001, true],
  ])("%s", (_, scrape, now, want) => {
    expect(isLate(scrape, now)).toBe(want);
  });
});

describe("isLagging: what leaves scheduling", () => {
  const cases: [string, MetricsSnapshot, ScrapeStatus | undefined, number, boolean][] = [
    ["fresh, never reported", at(1000), undefined, 1500, false],
    ["fresh, last scrape ok", at(1000), idle(), 1500, false],
    ["fresh, but the last scrape failed", at(1000), idle(1), 1500, true],
    ["fresh, scrape in flight, not late", at(1000), inFlight(1050, 1000), 1500, false],
    ["fresh, scrape in flight and late (a hung pod)", at(1000), inFlight(1050, 1000), 2051, true],
    ["stale", at(1000), idle(), 3500, true],
    ["past stalenessMs, scrape in flight, not late", at(1000), inFlight(2800, 1000), 3500, false],
    ["never scraped", EMPTY_METRICS, undefined, 1500, true],
  ];
  test.each(cases)("%s", (_, metrics, scrape, now, want) => {
    expect(isLagging(scrape ? { metrics, scrape } : { metrics }, now, 2000)).toBe(want);
  });
});

describe("preferFresh", () => {
  const fresh = { name: "fresh", metrics: at(3000), scrape: idle() };
  const failing = { name: "failing", metrics: at(3000), scrape: idle(2) };
  const stale = { name: "stale", metrics: at(1) };
  const names = (xs: readonly { name: string }[]) => xs.map((x) => x.name);

  test("drops lagging endpoints while a fresher one exists", () => {
    expect(names(preferFresh([stale, fresh, failing], 3500, 2000))).toEqual(["fresh"]);
  });

  test("keeps everyone when every endpoint lags (better a pod we cannot see than none)", () => {
    const all = [stale, failing];
    expect(preferFresh(all, 3500, 2000)).toBe(all);
  });

  test("returns the same array when nothing lags (no allocation on the hot path)", () => {
    const all = [fresh, { ...fresh, name: "fresh-2" }];
    expect(preferFresh(all, 3500, 2000)).toBe(all);
  });

  test("empty in, empty out", () => {
    expect(preferFresh([], 3500, 2000)).toEqual([]);
  });
});
