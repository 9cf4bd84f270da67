import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { IncomingMessage, ServerResponse } from "node:http";
import { gzipSync } from "node:zlib";
import { createLogger } from "../../src/log.ts";
import { JsonAccounting } from "../../src/proxy/json-accounting.ts";
import { wireFetch } from "../../src/runtime/bun-wire.ts";
import { WireCall } from "../../src/runtime/bun-wire-call.ts";
import { type ResponseHead, ResponseParser } from "../../src/runtime/http1-parse.ts";
import { chatRequest, jsonGateway } from "../helpers/json-gateway.ts";
import { type NodePod, startNodePod } from "../helpers/node-pod.ts";

/**
 * Issue 19, thirteenth pass: what the wire client allocates for an answer, cut without a
 * change in what the caller sees. The parser notes a `Content-Encoding` header (the client
 * decodes on that, where `decodingWhenEncoded` asked every answer's Headers), and the one
 * hop-by-hop name of a usual answer is a shared list.
 */
function heads(...texts: string[]): ResponseHead[] {
  const out: ResponseHead[] = [];
  const p = new ResponseParser({ head: (h) => out.push(h), body: () => {} });
  for (const text of texts) {
    p.reset(false);
    p.feed(Buffer.from(`${text}\r\n\r\n`, "latin1"));
  }
  return out;
}

describe("the answer's head", () => {
  test("contentEncoding: whether a Content-Encoding header came, whatever its case or value", () => {
    const [plain, gzip, upper, empty] = heads(
      "HTTP/1.1 200 OK\r\nContent-Length: 0",
      "HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\nContent-Length: 0",
      "HTTP/1.1 200 OK\r\nCONTENT-ENCODING: identity\r\nContent-Length: 0",
      "HTTP/1.1 200 OK\r\nContent-Encoding:\r\nContent-Length: 0",
    );
    expect(plain!.contentEncoding).toBe(false);
    expect(gzip!.contentEncoding).toBe(true);
    expect(upper!.contentEncoding).toBe(true);
    expect(empty!.contentEncoding).toBe(true);
    // A name of the same length that is not it.
    expect(heads("HTTP/1.1 200 OK\r\nx-content-encode: gzip\r\nContent-Length: 0")[0]!.contentEncoding).toBe(
      false,
    );
  });

  test("Content-Length: framing's alone, read and left out of the Headers, in any spelling; the rest as they came", () => {
    const [usual, lower, upper, listed, withHop, date] = heads(
      "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nContent-Length: 7\r\nX-Pod: a",
      "HTTP/1.1 200 OK\r\ncontent-length: 7",
      "HTTP/1.1 200 OK\r\nCONTENT-LENGTH: 7",
      "HTTP/1.1 200 OK\r\nContent-Length: 7, 7\r\nContent-Length: 7",
      "HTTP/1.1 200 OK\r\nContent-Length: 7\r\nKeep-Alive: timeout=5\r\nTE: x",
      "HTTP/1.1 200 OK\r\nDate: Sun, 06 Dec 2026 07:00:00 GMT\r\nHost: h\r\nContent-Length: 7",
    );
    expect([...usual!.headers]).toEqual([
      ["content-type", "application/json"],
      ["x-pod", "a"],
    ]);
    for (const h of [usual, lower, upper, listed, withHop, date]) {
      expect(h!.length).toBe(7);
      expect(h!.headers.has("content-length")).toBe(false);
    }
    expect(usual!.hop).toEqual([]);
    expect(withHop!.hop).toEqual(["keep-alive", "te"]);
    expect(date!.hop).toEqual(["host"]);
    expect(date!.headers.get("date")).toBe("Sun, 06 Dec 2026 07:00:00 GMT");
    // Differing values still refuse the answer.
    expect(() => heads("HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 8")).toThrow(
      "differing content-length values",
    );
  });
});

let pod: NodePod;
let base: string;
const ZIPPED = gzipSync('{"zipped":true}');

function handle(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === "/gzip") {
    res.setHeader("content-encoding", "gzip");
    res.end(ZIPPED);
  } else if (req.url === "/lying") {
    // Says gzip, sends plain bytes: passed on as they are.
    res.setHeader("content-encoding", "gzip");
    res.end('{"plain":true}');
  } else if (req.url === "/gzip-head") {
    res.setHeader("content-encoding", "gzip");
    res.setHeader("content-length", String(ZIPPED.length));
    res.end();
  } else res.end('{"ok":true}');
}

beforeAll(async () => {
  pod = await startNodePod(handle);
  base = pod.base;
});
afterAll(() => pod.close());

describe("wireFetch's decode option", () => {
  const decoding = wireFetch({ decode: true });
  const raw = wireFetch();
  afterAll(() => {
    decoding.close();
    raw.close();
  });

  test("decode: a gzip answer is decoded, a lying one and a plain one pass as they came", async () => {
    expect(await (await decoding(`${base}/gzip`, { method: "GET" })).json()).toEqual({ zipped: true });
    expect(await (await decoding(`${base}/lying`, { method: "GET" })).json()).toEqual({ plain: true });
    const plain = await decoding(`${base}/plain`, { method: "GET" });
    expect(plain.headers.has("content-encoding")).toBe(false);
    expect(await plain.json()).toEqual({ ok: true });
  });

  test("decode: a HEAD answer that declares gzip has no body and its headers", async () => {
    const res = await decoding(`${base}/gzip-head`, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-encoding")).toBe("gzip");
    expect(res.body).toBeNull();
  });

  test("without it, the bytes as sent", async () => {
    const res = await raw(`${base}/gzip`, { method: "GET" });
    expect(res.headers.get("content-encoding")).toBe("gzip");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(new Uint8Array(ZIPPED));
  });

  test("decode: the fallback's answers are decoded too; without it, not", async () => {
    const zipped = () => Promise.resolve(new Response(ZIPPED, { headers: { "content-encoding": "gzip" } }));
    const viaFallback = wireFetch({ decode: true, fallback: zipped });
    const rawFallback = wireFetch({ fallback: zipped });
    expect(await (await viaFallback("https://pod.invalid/x", { method: "GET" })).json()).toEqual({
      zipped: true,
    });
    const res = await rawFallback("https://pod.invalid/x", { method: "GET" });
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(new Uint8Array(ZIPPED));
  });

  test("calls at once each get their own answer (the shared executor hands each its own resolvers)", async () => {
    const paths = ["/a", "/gzip", "/b", "/lying", "/c"];
    const answers = await Promise.all(
      paths.map((p) => decoding(`${base}${p}`, { method: "GET" }).then((r) => r.json())),
    );
    expect(answers).toEqual([{ ok: true }, { zipped: true }, { ok: true }, { plain: true }, { ok: true }]);
  });

  test("an aborted signal still rejects with its reason, before any socket", async () => {
    const reason = new Error("gone");
    await expect(decoding(`${base}/a`, { method: "GET", signal: AbortSignal.abort(reason) })).rejects.toBe(
      reason,
    );
  });
});

describe("respond's answers, one init object for all of them", () => {
  test("answers at once and one after the other each keep their own status, status text, headers and body", async () => {
    let n = 0;
    const gateway = jsonGateway(
      2,
      createLogger("silent", () => {}),
      () => {
        const k = n++;
        return new Response(`{"k":${k},"choices":[]}`, {
          status: k % 2 === 0 ? 200 : 429,
          statusText: k % 2 === 0 ? "Fine" : "Slow Down",
          headers: { "content-type": "application/json", "x-k": String(k) },
        });
      },
    );
    const answers = [
      ...(await Promise.all([0, 1, 2].map(() => gateway.fetch(chatRequest())))),
      await gateway.fetch(chatRequest()),
    ];
    const seen = await Promise.all(
      answers.map(async (r) => [r.status, r.statusText, r.headers.get("x-k"), await r.text()]),
    );
    for (const [status, text, k, body] of seen)
      expect([status, text, body]).toEqual(
        Number(k) % 2 === 0
          ? [200, "Fine", `{"k":${k},"choices":[]}`]
          : [429, "Slow Down", `{"k":${k},"choices":[]}`],
      );
    expect(new Set(seen.map((s) => s[2])).size).toBe(4);
    for (const r of answers) expect(r.headers.get("x-gateway-target-model")).toBe("m");
    await gateway.stop?.();
  });
});

describe("JsonAccounting keeps its first chunk alone", () => {
  test("one chunk, two, many: the same usage; past 1 MiB, none", () => {
    const body = new TextEncoder().encode(
      '{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}',
    );
    const want = { promptTokens: 5, completionTokens: 2, cachedTokens: 0 };
    for (const cuts of [[], [10], [3, 40, 41, 70]]) {
      const acc = new JsonAccounting();
      let at = 0;
      for (const cut of [...cuts, body.length]) {
        acc.chunk(body.subarray(at, cut));
        at = cut;
      }
      acc.flush();
      expect([cuts, acc.result.usage]).toEqual([cuts, want]);
      expect(acc.result.responseBytes).toBe(body.length);
    }
    const big = new JsonAccounting();
    big.chunk(body);
    big.chunk(new Uint8Array(1 << 20));
    big.flush();
    expect(big.result.usage).toBeUndefined();
  });
});

describe("WireCall collects a whole answer's chunks without an array for one", () => {
  const enc = new TextEncoder();
  const call = () => {
    const settled: { res?: Response; err?: Error } = {};
    const c = new WireCall(
      new Uint8Array(0),
      false,
      undefined,
      (r) => {
        settled.res = r as Response;
      },
      (e) => {
        settled.err = e;
      },
    );
    return { c, settled };
  };
  const head = (length: number): ResponseHead => ({
    status: 200,
    headers: new Headers({ "content-type": "application/json" }),
    keepAlive: true,
    length,
    eventStream: false,
    contentEncoding: false,
    hop: [],
  });

  test("one chunk, two, three: the bytes in order, open until the end", async () => {
    for (const pieces of [["{}"], ['{"a"', ":1}"], ['{"a":', '"b', '"}']]) {
      const { c, settled } = call();
      const text = pieces.join("");
      c.head(head(text.length));
      for (const p of pieces) c.body(enc.encode(p));
      expect(c.open).toBe(true);
      c.end();
      expect(c.open).toBe(false);
      expect(await settled.res!.text()).toBe(text);
    }
  });

  test("a failure while collecting rejects, and drops what it held", () => {
    const { c, settled } = call();
    c.head(head(10));
    c.body(enc.encode("12345"));
    c.body(enc.encode("67"));
    const err = new Error("broke");
    c.fail(err);
    expect(settled.err).toBe(err);
    expect(settled.res).toBeUndefined();
    expect(c.open).toBe(false);
  });
});
