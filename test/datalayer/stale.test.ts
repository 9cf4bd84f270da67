import { describe, expect, test } from "bun:test";
import { isStale } from "../../src/datalayer/scraper.ts";
import { EMPTY_METRICS, type MetricsSnapshot } from "../../src/endpoints/types.ts";

const at = (updatedAt: number): MetricsSnapshot => ({ ...EMPTY_METRICS, updatedAt });

describe("isStale", () => {
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
