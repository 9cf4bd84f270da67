import { describe, expect, test } from "bun:test";
import { isoNow } from "../../src/log.ts";

describe("isoNow (the log line's time, its second formatted once)", () => {
  test("equals Date#toISOString, across seconds, days and back in time", () => {
    const starts = [0, 1_764_930_000_000, 1_764_930_059_998, 1_735_689_599_990, 951_782_399_999];
    for (const start of starts)
      for (let ms = start; ms < start + 2_500; ms += 7) expect(isoNow(ms)).toBe(new Date(ms).toISOString());
    // Back to an earlier second after a later one: no stale prefix.
    expect(isoNow(1_764_930_001_005)).toBe(new Date(1_764_930_001_005).toISOString());
    expect(isoNow(5)).toBe("1970-01-01T00:00:00.005Z");
  });

  test("defaults to now", () => {
    const before = Date.now();
    const t = Date.parse(isoNow());
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(Date.now());
  });
});
