import { describe, expect, test } from "bun:test";
import { FramingError, type ResponseHead, ResponseParser } from "../../src/runtime/http1-parse.ts";

/** Feeds `wire` in pieces of `step` bytes; the head, the body as text, and whether it ended. */
function parse(wire: string, step = wire.length, headRequest = false) {
  const heads: ResponseHead[] = [];
  let body = "";
  const p = new ResponseParser({
    head: (h) => heads.push(h),
    body: (c) => {
      body += Buffer.from(c).toString("latin1");
    },
  });
  p.reset(headRequest);
  const bytes = Buffer.from(wire, "latin1");
  let ended = false;
  for (let i = 0; i < bytes.length; i += step) ended = p.feed(bytes.subarray(i, i + step));
  return { heads, body, ended, reusable: p.reusable, untilClose: p.untilClose };
}

const CHUNKED =
  "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" +
  "9;ext=1\r\ndata: 1\n\n\r\n" +
  "9\r\ndata: 2\n\n\r\n" +
  "A\r\ndata: 10\n\n\r\n" +
  "0\r\nX-Trailer: t\r\n\r\n";

describe("ResponseParser", () => {
  test("content-length: head, body, keep-alive, in any split", () => {
    const wire = 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nContent-Length: 7\r\n\r\n{"a":1}';
    for (const step of [1, 2, 7, 64, wire.length]) {
      const r = parse(wire, step);
      expect(r.heads).toHaveLength(1);
      expect(r.heads[0]!.status).toBe(200);
      expect(r.heads[0]!.length).toBe(7);
      expect(r.heads[0]!.headers.get("content-type")).toBe("application/json");
      expect(r.body).toBe('{"a":1}');
      expect(r.ended).toBe(true);
      expect(r.reusable).toBe(true);
    }
  });

  test("chunked with extensions and trailers, in any split", () => {
    for (const step of [1, 3, 5, 17, CHUNKED.length]) {
      const r = parse(CHUNKED, step);
      expect(r.body).toBe("data: 1\n\ndata: 2\n\ndata: 10\n\n");
      expect(r.heads[0]!.eventStream).toBe(true);
      expect(r.heads[0]!.length).toBe(-1);
      expect(r.ended).toBe(true);
      expect(r.reusable).toBe(true);
    }
  });

  test("chunk sizes read as bytes or as text agree: cases, leading zeros, spaces, bare LF, in any split", () => {
    const a = "x".repeat(0x1a);
    const b = "y".repeat(0x1f);
    const wire =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
      `1a\r\n${a}\r\n` +
      `1F \r\n${b}\r\n` +
      `00A\n${"z".repeat(10)}\n` +
      "0\r\n\r\n";
    for (const step of [1, 2, 3, 7, 31, wire.length]) {
      const r = parse(wire, step);
      expect(r.body).toBe(a + b + "z".repeat(10));
      expect(r.ended).toBe(true);
      expect(r.reusable).toBe(true);
    }
    expect(() => parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1234567890abc\r\n")).toThrow(
      /bad chunk size/,
    );
  });

  test("repeated header names are all kept", () => {
    const r = parse(
      "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-A: 1\r\nX-A: 2\r\nContent-Length: 0\r\n\r\n",
    );
    expect(r.heads[0]!.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(r.heads[0]!.headers.get("x-a")).toBe("1, 2");
    expect(r.ended).toBe(true);
  });

  test("no body for HEAD, 204 and 304, whatever Content-Length says", () => {
    expect(parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", 4, true)).toMatchObject({
      ended: true,
      body: "",
    });
    expect(parse("HTTP/1.1 204 No Content\r\n\r\n")).toMatchObject({ ended: true, reusable: true });
    expect(parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n")).toMatchObject({ ended: true });
  });

  test("interim answers are skipped; the final one counts", () => {
    const r = parse(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
      5,
    );
    expect(r.heads.map((h) => h.status)).toEqual([201]);
    expect(r.body).toBe("ok");
  });

  test("no length: the body runs until the close, and the socket is not reused", () => {
    const r = parse("HTTP/1.1 200 OK\r\n\r\nsome bytes");
    expect(r).toMatchObject({ ended: false, untilClose: true, body: "some bytes", reusable: false });
    expect(r.heads[0]!.keepAlive).toBe(false);
  });

  test("Connection: close, and HTTP/1.0 without keep-alive, end the connection's reuse", () => {
    expect(parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").reusable).toBe(false);
    expect(parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").reusable).toBe(false);
    expect(parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n").reusable).toBe(
      true,
    );
    expect(
      parse("HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Upgrade\r\nContent-Length: 0\r\n\r\n").reusable,
    ).toBe(true);
  });

  test("framing names are read in any case, and only those: a look-alike of the same length is a plain header", () => {
    // The head's names are lower-cased and compared only when their length is one of the
    // four framing names' (14, 17, 10, 12): the cases below pin that filter.
    const r = parse(
      "HTTP/1.1 200 OK\r\nX-Content-Leng: 99\r\nCONTENT-TYPE: Text/Event-Stream\r\nx-connection: close\r\n" +
        "Content-LENGTH: 2\r\nconnectioN: keep-alive\r\n\r\nok",
    );
    expect(r.heads[0]!.length).toBe(2);
    expect(r.heads[0]!.eventStream).toBe(false); // the value's case counts, as before: "text/event-stream" only
    expect(r.heads[0]!.headers.get("x-content-leng")).toBe("99");
    expect(r.heads[0]!.headers.get("content-type")).toBe("Text/Event-Stream");
    expect(r.body).toBe("ok");
    expect(r.reusable).toBe(true);
    const t = parse(
      "HTTP/1.1 200 OK\r\nTRANSFER-ENCODING: Chunked\r\nContent-Type: text/event-stream\r\n\r\n0\r\n\r\n",
    );
    expect(t.heads[0]!.eventStream).toBe(true);
    expect(t.ended).toBe(true);
    expect(parse("HTTP/1.1 200 OK\r\nCONNECTION: Close\r\nContent-Length: 0\r\n\r\n").reusable).toBe(false);
    expect(parse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").reusable).toBe(true);
    expect(parse("HTTP/1.1 204 No Content\r\n\r\n").reusable).toBe(true);
  });

  test("a header line without a colon is refused, even when the next line has one", () => {
    expect(() => parse("HTTP/1.1 200 OK\r\nX-A\r\nB: 1\r\nContent-Length: 0\r\n\r\n")).toThrow(
      /bad header line "X-A"/,
    );
    expect(() => parse("HTTP/1.1 200 OK\r\n: 1\r\nContent-Length: 0\r\n\r\n")).toThrow(FramingError);
  });

  test("a list of equal Content-Length values counts as one", () => {
    expect(parse("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok").body).toBe("ok");
  });

  test.each([
    ["a bad status line", "HTTP/2 200 OK\r\n\r\n"],
    ["differing lengths", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok"],
    ["a bad length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"],
    ["a folded header", "HTTP/1.1 200 OK\r\nX-A: 1\r\n  2\r\nContent-Length: 0\r\n\r\n"],
    ["a bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"],
    ["no CRLF after a chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX\r\n"],
    ["bytes after the end", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1"],
    ["a 101 nobody asked for", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n"],
  ])("%s throws a FramingError", (_, wire) => {
    expect(() => parse(wire)).toThrow(FramingError);
  });

  test("a head that never ends is refused past 64 KiB", () => {
    expect(() => parse(`HTTP/1.1 200 OK\r\nX-Big: ${"a".repeat(70_000)}`, 4096)).toThrow(/head over 64 KiB/);
  });
});
