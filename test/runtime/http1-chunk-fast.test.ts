import { describe, expect, test } from "bun:test";
import { FramingError, ResponseParser } from "../../src/runtime/http1-parse.ts";

// Issue 19, twelfth pass: a chunk's size line of bare hex digits and its CRLF, and the CRLF
// after its data, are read in place (no search for the LF); any other line, or one split
// between two reads, takes the line path as before. Same framing either way.

const HEAD = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";

/** Feeds `wire` in the given piece sizes (cycled); the body as text and whether it ended. */
function parse(wire: string, steps: number[]) {
  let body = "";
  const p = new ResponseParser({
    head: () => {},
    body: (c) => {
      body += Buffer.from(c).toString("latin1");
    },
  });
  p.reset(false);
  const bytes = Buffer.from(wire, "latin1");
  let ended = false;
  for (let i = 0, k = 0; i < bytes.length; k++) {
    const step = steps[k % steps.length]!;
    ended = p.feed(bytes.subarray(i, i + step));
    i += step;
  }
  return { body, ended, reusable: p.reusable };
}

/** A seeded generator (the same cases every run). */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("chunked framing read in place", () => {
  test("generated streams (sizes in any case, leading zeros up to 12 digits, extensions, bare LF) in random splits", () => {
    const rand = rng(19);
    for (let n = 0; n < 300; n++) {
      let wire = HEAD;
      let expected = "";
      const chunks = 1 + Math.floor(rand() * 8);
      for (let c = 0; c < chunks; c++) {
        const size = 1 + Math.floor(rand() * 300);
        let hex = size.toString(16);
        if (rand() < 0.3) hex = hex.toUpperCase();
        if (rand() < 0.2) hex = hex.padStart(1 + hex.length + Math.floor(rand() * (12 - hex.length)), "0");
        const ext = rand() < 0.15 ? ";name=value" : "";
        const eol = rand() < 0.1 ? "\n" : "\r\n";
        const data = String.fromCharCode(...Array.from({ length: size }, () => 32 + Math.floor(rand() * 95)));
        wire += `${hex}${ext}${eol}${data}${rand() < 0.1 ? "\n" : "\r\n"}`;
        expected += data;
      }
      wire += rand() < 0.5 ? "0\r\n\r\n" : "0\r\nX-Trailer: t\r\n\r\n";
      const steps = [wire.length, 1 + Math.floor(rand() * 40), 1 + Math.floor(rand() * 7), 1];
      for (const step of steps) {
        const r = parse(wire, [step, 1 + Math.floor(rand() * 11)]);
        expect(r.body).toBe(expected);
        expect(r.ended).toBe(true);
        expect(r.reusable).toBe(true);
      }
    }
  });

  test("a chunk's data not followed by its line end is refused, in any split", () => {
    for (const step of [1, 2, 3, 5, 100]) {
      expect(() => parse(`${HEAD}3\r\nabcX\r\n0\r\n\r\n`, [step])).toThrow(FramingError);
      expect(() => parse(`${HEAD}3\r\nabc\rX\r\n0\r\n\r\n`, [step])).toThrow(FramingError);
      // A CR then a byte that would read as a size: still no line end after the data.
      expect(() => parse(`${HEAD}3\r\nabc\r11\r\nz\r\n0\r\n\r\n`, [step])).toThrow(FramingError);
    }
  });

  test("sizes: 12 hex digits at most; a CR not followed by LF, a sign or a space inside are refused", () => {
    for (const step of [1, 4, 100]) {
      expect(parse(`${HEAD}00000000000A\r\n0123456789\r\n0\r\n\r\n`, [step]).body).toBe("0123456789");
      expect(() => parse(`${HEAD}000000000000A\r\n0123456789\r\n0\r\n\r\n`, [step])).toThrow(
        /bad chunk size/,
      );
      expect(() => parse(`${HEAD}A\rX\n0123456789\r\n0\r\n\r\n`, [step])).toThrow(/bad chunk size/);
      expect(() => parse(`${HEAD}+A\r\n0123456789\r\n0\r\n\r\n`, [step])).toThrow(/bad chunk size/);
      expect(() => parse(`${HEAD}1 0\r\n0123456789abcdef\r\n0\r\n\r\n`, [step])).toThrow(/bad chunk size/);
    }
  });

  test("the last chunk (size 0) still reads the trailers and ends; bytes after it are refused", () => {
    const r = parse(`${HEAD}2\r\nok\r\n000\r\n\r\n`, [100]);
    expect(r.body).toBe("ok");
    expect(r.ended).toBe(true);
    expect(() => parse(`${HEAD}2\r\nok\r\n0\r\n\r\nX`, [100])).toThrow(/after the end/);
  });
});
