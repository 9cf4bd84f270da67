/**
 * The response parser's bare mode (`reset(head, true)`, fourteenth pass: the wire client's
 * light GET): the same framing, status and flags as a full head, no header kept, and the
 * Content-Encoding value(s) in `encoding`.
 */
import { expect, test } from "bun:test";
import { type ResponseHead, ResponseParser } from "../../src/runtime/http1-parse.ts";

function parse(raw: string, bare: boolean) {
  const heads: ResponseHead[] = [];
  const body: string[] = [];
  const parser = new ResponseParser({
    head: (h) => heads.push(h),
    body: (c) => body.push(Buffer.from(c).toString("latin1")),
  });
  parser.reset(false, bare);
  const ended = parser.feed(Buffer.from(raw, "latin1"));
  return { head: heads[0]!, body: body.join(""), ended, reusable: parser.reusable };
}

const ANSWERS = [
  "HTTP/1.1 200 OK\r\nServer: uvicorn\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\nX-A: 1\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
  "HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 4\r\n\r\nbusy",
  "HTTP/1.0 200 OK\r\ncontent-encoding: gzip\r\nContent-Encoding: br\r\ncontent-length: 2\r\n\r\nok",
];

test("a bare head frames, flags and reads the body as a full one, keeps no header, and gives the encoding", () => {
  for (const raw of ANSWERS) {
    const full = parse(raw, false);
    const bare = parse(raw, true);
    expect([bare.body, bare.ended, bare.reusable]).toEqual([full.body, full.ended, full.reusable]);
    const { headers: fullHeaders, encoding: fullEncoding, ...fullRest } = full.head;
    const { headers: bareHeaders, encoding, ...bareRest } = bare.head;
    expect(bareRest).toEqual(fullRest);
    expect([...bareHeaders]).toEqual([]);
    expect(fullEncoding).toBeUndefined();
    expect(encoding).toBe(fullHeaders.get("content-encoding") ?? undefined);
  }
  expect(parse(ANSWERS[3]!, true).head.encoding).toBe("gzip, br");
  // A full head after a bare one on the same parser keeps its headers again.
  const heads: ResponseHead[] = [];
  const parser = new ResponseParser({ head: (h) => heads.push(h), body: () => {} });
  parser.reset(false, true);
  parser.feed(Buffer.from(ANSWERS[0]!, "latin1"));
  parser.reset(false);
  parser.feed(Buffer.from(ANSWERS[0]!, "latin1"));
  expect(heads[1]!.headers.get("server")).toBe("uvicorn");
});
