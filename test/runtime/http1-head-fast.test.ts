import { describe, expect, test } from "bun:test";
import { createLogger } from "../../src/log.ts";
import { answerHeaders, HOP_NAMES } from "../../src/proxy/headers.ts";
import { WireCall } from "../../src/runtime/bun-wire-call.ts";
import { FramingError, type ResponseHead, ResponseParser } from "../../src/runtime/http1-parse.ts";
import { bufferedResponse } from "../../src/runtime/node-upstream-response.ts";
import { chatRequest, jsonGateway } from "../helpers/json-gateway.ts";

/**
 * Issue 19, eleventh pass: the answer's head read without a regular expression for the status,
 * without an untrimmed copy of the usual value, and with the hop-by-hop names noted as they
 * are read (the answer's `HOP_NAMES`, so answerHeaders need not scan the Headers again).
 * Same statuses, values and refusals as before.
 */
function head(text: string): ResponseHead {
  const heads: ResponseHead[] = [];
  const p = new ResponseParser({ head: (h) => heads.push(h), body: () => {} });
  p.reset(false);
  p.feed(Buffer.from(`${text}\r\n\r\n`, "latin1"));
  return heads[0]!;
}

/** The old reading of a status line, for comparison. */
const statusByRegex = (line: string) => {
  const m = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(line);
  return m ? Number(m[1]) : undefined;
};

describe("the answer's head", () => {
  test.each([
    "HTTP/1.1 200 OK",
    "HTTP/1.0 404 Not Found",
    "HTTP/1.1 204",
    "HTTP/1.1 599 ",
    "HTTP/1.1 200OK",
    "HTTP/1.1 20 OK",
    "HTTP/1.2 200 OK",
    "HTTP/1.1  200 OK",
    "HTTP/1.1 2x0 OK",
    "HTTP/1.1 /00 OK",
    "HTTP/1.1 :00 OK",
    "HTTP/11 200 OK",
    "http/1.1 200 OK",
    "HTTP/1.1 2000 OK",
  ])("status line %j: read as the regular expression read it", (line) => {
    const want = statusByRegex(line);
    if (want === undefined) expect(() => head(`${line}\r\nContent-Length: 0`)).toThrow(FramingError);
    else expect(head(`${line}\r\nContent-Length: 0`).status).toBe(want);
  });

  test.each([
    ["X-A: plain", "plain"],
    ["X-A:plain", "plain"],
    ["X-A:  two spaces", "two spaces"],
    ["X-A: trailing ", "trailing"],
    ["X-A: \ttab\t", "tab"],
    ["X-A: a", "a"],
    ["X-A: ", ""],
    ["X-A:", ""],
    ["X-A: nbsp\xa0", "nbsp"],
    ["X-A: \xa0nbsp", "nbsp"],
    ["X-A: inner  spaces kept", "inner  spaces kept"],
  ])("header line %j: the value is what trim() gives", (line, value) => {
    const h = head(`HTTP/1.1 200 OK\r\n${line}\r\nContent-Length: 0`);
    expect(h.headers.get("x-a")).toBe(value);
  });

  test("hop-by-hop names are noted as read (lower-case, repeats too; Content-Length is not in the Headers: thirteenth pass); none is an empty list", () => {
    const h = head(
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: x\r\nContent-Length: 0\r\n" +
        "Keep-Alive: timeout=5\r\nTE: trailers\r\nX-Pod: a\r\nTrailer: x\r\nTrailer: y\r\nProxy-Authenticate: b\r\n" +
        "Upgrade: h2c\r\nProxy-Connection: k\r\nContent-Encoding: gzip\r\nHost: h\r\nProxy-Authorization: p",
    );
    expect(h.headers.has("content-length")).toBe(false);
    expect(h.hop).toEqual([
      "keep-alive",
      "te",
      "trailer",
      "trailer",
      "proxy-authenticate",
      "upgrade",
      "proxy-connection",
      "content-encoding",
      "host",
      "proxy-authorization",
    ]);
    expect(head("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Te: 1\r\nDate: x").hop).toEqual([]);
    const chunked = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked");
    expect(chunked.hop).toEqual(["transfer-encoding"]);
  });

  test("with a Connection header no names are noted (its listed names are found by a scan)", () => {
    const h = head("HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nContent-Length: 0");
    expect(h.hop).toBeUndefined();
    const out = answerHeaders(h.headers, { ok: true }, h.hop);
    expect([...out.keys()]).toEqual([]);
  });

  test("answerHeaders deletes the noted names without reading the Headers", () => {
    const h = head("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nX-Pod: a");
    const headers = h.headers;
    let reads = 0;
    for (const name of ["keys", "get", "has", "forEach", "entries"] as const) {
      const own = headers[name].bind(headers) as (...a: unknown[]) => unknown;
      Object.defineProperty(headers, name, {
        value: (...a: unknown[]) => {
          reads++;
          return own(...a);
        },
      });
    }
    expect(answerHeaders(headers, { ok: true }, h.hop)).toBe(headers);
    expect(reads).toBe(0);
    expect([...Headers.prototype.keys.call(headers)]).toEqual(["content-type", "x-pod"]);
  });
});

describe("the noted names, from the wire call to the client", () => {
  test("the wire call's Response offers them under HOP_NAMES", () => {
    const answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
    let res: Response | undefined;
    const call = new WireCall(
      new Uint8Array(0),
      false,
      undefined,
      (r) => {
        res = r as Response;
      },
      () => {},
    );
    const p = new ResponseParser({ head: (h) => call.head(h), body: (c) => call.body(c) });
    p.reset(false);
    if (p.feed(Buffer.from(answer, "latin1"))) call.end();
    expect((res as unknown as Record<symbol, unknown>)[HOP_NAMES]).toEqual([]);
    expect([...res!.headers.keys()]).toEqual(["content-type"]);
  });

  test("respond deletes what the answer names under HOP_NAMES, and reads nothing else for it", async () => {
    const body = new TextEncoder().encode('{"id":"c","object":"chat.completion","choices":[]}');
    // A name no scan would drop, to see that the offered list is what is deleted.
    const gateway = jsonGateway(
      1,
      createLogger("silent", () => {}),
      () =>
        bufferedResponse(
          body as Uint8Array<ArrayBuffer>,
          200,
          new Headers({ "content-type": "application/json", "x-named": "1", "x-pod": "a" }),
          ["x-named"],
        ),
    );
    const res = await gateway.fetch(chatRequest());
    expect(res.status).toBe(200);
    expect(res.headers.has("x-named")).toBe(false);
    expect(res.headers.get("x-pod")).toBe("a");
    expect(res.headers.get("x-gateway-target-model")).toBe("m");
    await gateway.stop?.();
  });
});
