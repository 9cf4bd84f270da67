import { describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import type { FetchFn } from "../../src/deps.ts";
import { bufferedResponse, streamedResponse } from "../../src/runtime/node-upstream-response.ts";
import { decodingWhenEncoded } from "../../src/runtime/undici-fetch.ts";

const json = (text: string) => new TextEncoder().encode(text) as Uint8Array<ArrayBuffer>;
const headers = () => new Headers({ "content-type": "application/json" });

describe("the Node entry's upstream Responses", () => {
  test("an answer read whole hands its own bytes over, once, and is a Response in every other way", async () => {
    const bytes = json('{"id":"x"}');
    const res = bufferedResponse(bytes, 200, headers());
    expect(res).toBeInstanceOf(Response);
    expect([res.status, res.ok, res.statusText, res.headers.get("content-type")]).toEqual([
      200,
      true,
      "",
      "application/json",
    ]);
    expect(res.bodyUsed).toBe(false);
    // No copy and no stream in between: the very buffer read from the socket.
    expect(await res.arrayBuffer()).toBe(bytes.buffer);
    expect(res.bodyUsed).toBe(true);
    await expect(res.arrayBuffer()).rejects.toThrow(TypeError);
    await expect(res.text()).rejects.toThrow(TypeError);
  });

  test("bytes() hands over the very view it was given, once, with no copy (eleventh pass)", async () => {
    const read = json('HTTP/1.1 200 OK\r\n\r\n{"id":"x"}');
    const body = read.subarray(19); // the body, after the head in the same socket buffer
    const res = bufferedResponse(body, 200, headers());
    const got = await res.bytes();
    expect(got).toBe(body);
    expect(new TextDecoder().decode(got)).toBe('{"id":"x"}');
    expect(res.bodyUsed).toBe(true);
    await expect(res.bytes()).rejects.toThrow(TypeError);
    await expect(res.arrayBuffer()).rejects.toThrow(TypeError);
    // After any other read, bytes() is the platform's: a copy of exactly the body.
    const other = bufferedResponse(json('xx{"a":1}'), 200, headers());
    expect(await new Response(other.body).text()).toBe('xx{"a":1}');
    await expect(other.bytes()).rejects.toThrow(TypeError);
    const cloned = bufferedResponse(json('{"a":2}'), 200, headers());
    cloned.clone();
    expect(new TextDecoder().decode(await cloned.bytes())).toBe('{"a":2}');
    const streamed = streamedResponse(new Response("data: 1\n\n").body!, 200, headers());
    expect(new TextDecoder().decode(await streamed.bytes())).toBe("data: 1\n\n");
  });

  test("its body, clone, text and json still work when asked for", async () => {
    const streamed = bufferedResponse(json('{"a":1}'), 503, headers());
    expect(streamed.ok).toBe(false);
    expect(await new Response(streamed.body).text()).toBe('{"a":1}');
    expect(streamed.bodyUsed).toBe(true);

    const twice = bufferedResponse(json('{"a":2}'), 200, headers());
    expect(await twice.clone().json()).toEqual({ a: 2 });
    expect(await twice.json()).toEqual({ a: 2 });

    // A view into a larger buffer gives exactly its own bytes.
    const big = json('xx{"a":3}yy');
    expect(await bufferedResponse(big.subarray(2, 9), 200, headers()).text()).toBe('{"a":3}');
  });

  test("a streamed answer hands over the stream it was given, and reads whole through the platform", async () => {
    const stream = new Response("data: 1\n\n").body!;
    const res = streamedResponse(stream, 200, new Headers({ "content-type": "text/event-stream" }));
    expect(res).toBeInstanceOf(Response);
    expect(res.body).toBe(stream);
    expect(await res.text()).toBe("data: 1\n\n");
    expect(res.bodyUsed).toBe(true);
  });
});

describe("decodingWhenEncoded", () => {
  /** A base fetch answering `res`, counting how often its body is looked at. */
  const counting = (body: Uint8Array<ArrayBuffer>, h: Headers) => {
    const seen = { body: 0 };
    const res = bufferedResponse(body, 200, h);
    const native = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(res), "body")!.get!;
    Object.defineProperty(res, "body", {
      get() {
        seen.body++;
        return native.call(res);
      },
    });
    const base: FetchFn = async () => res;
    return { seen, base, res };
  };

  test("an answer without content-encoding passes as it is, its body untouched", async () => {
    const { seen, base, res } = counting(json('{"a":1}'), headers());
    const out = await decodingWhenEncoded(base)("http://pod/v1", { method: "POST" });
    expect(out).toBe(res);
    expect(seen.body).toBe(0);
  });

  test("a gzip answer is decoded as decodingFetch does", async () => {
    const h = new Headers({ "content-type": "application/json", "content-encoding": "gzip" });
    const { base } = counting(new Uint8Array(gzipSync('{"a":"zipped"}')), h);
    const out = await decodingWhenEncoded(base)("http://pod/v1", { method: "POST" });
    expect(await out.json()).toEqual({ a: "zipped" });
  });
});
