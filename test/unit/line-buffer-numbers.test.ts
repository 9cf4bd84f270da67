import { describe, expect, test } from "bun:test";
import { seededRandom } from "../../src/clock.ts";
import { LineBuffer } from "../../src/line-buffer.ts";

/**
 * The request line's numbers and time written as digits into the line's bytes (issue 19,
 * fifth pass): each must be the characters JS prints, `${v}` and `toISOString()`.
 */
describe("LineBuffer numbers and times", () => {
  const b = new LineBuffer(64);
  const written = (fill: () => void) => {
    b.pos = 0;
    fill();
    return b.text();
  };

  test("hundredths (durations rounded to 0.01 ms) read as JS prints them", () => {
    const r = seededRandom(19);
    const values = [
      0.01, 0.1, 0.5, 0.05, 1.05, 1.1, 2.3, 9.99, 10.01, 12345.6, 999_999_999.99, 0.07, 0.29, 4.35,
    ];
    for (let i = 0; i < 20_000; i++) values.push(Math.round(r() * 10 ** (1 + Math.floor(r() * 9))) / 100);
    for (const v of values) expect(written(() => b.number(v))).toBe(`${v}`);
  });

  test("everything else as before: other decimals, large, negative, -0, NaN, infinities", () => {
    const values = [0.001, 1 / 3, 1e9 + 0.5, 1e21, 1.5e300, 5e-324, -0.5, -0, -12, 0, Math.PI, 1e9, 123.456];
    for (const v of values) expect(written(() => b.number(v))).toBe(`${v}`);
    for (const v of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])
      expect(written(() => b.number(v))).toBe("null");
  });

  test("isoTime writes new Date(ms).toISOString(), across seconds, and from 1970 on", () => {
    const start = 1_764_930_000_000;
    for (let ms = start - 3_000; ms < start + 3_000; ms += 7)
      expect(written(() => b.isoTime(ms))).toBe(new Date(ms).toISOString());
    for (const ms of [0, 5, 999, 1000, 86_399_999, Date.now()])
      expect(written(() => b.isoTime(ms))).toBe(new Date(ms).toISOString());
  });
});
