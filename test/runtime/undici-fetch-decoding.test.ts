import { describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import type { FetchFn } from "../../src/deps.ts";
import { LightHeaders } from "../../src/runtime/node-headers.ts";
import { bufferedResponse } from "../../src/runtime/node-upstream-response.ts";
import { decodingWhenEncoded } from "../../src/runtime/undici-fetch.ts";

// decodingWhenEncoded is a plain `then` over the base fetch (no async frame per call): what an
// async wrapper did for free is checked here.
describe("decodingWhenEncoded without an async frame", () => {
  test("a base fetch that throws at once gives a rejected promise, not a throw", async () => {
    const base: FetchFn = () => {
      throw new TypeError("bad header");
    };
    let result: Promise<Response> | undefined;
    expect(() => {
      result = decodingWhenEncoded(base)("http://pod/v1", { method: "POST" });
    }).not.toThrow();
    await expect(result!).rejects.toThrow("bad header");
  });

  test("a base fetch that rejects passes the rejection on", async () => {
    const base: FetchFn = () => Promise.reject(new Error("refused"));
    await expect(decodingWhenEncoded(base)("http://pod/v1", { method: "POST" })).rejects.toThrow("refused");
  });

  test("the pod's answer as LightHeaders (the Node dispatcher's): a gzip body is decoded, a plain one passed as it is", async () => {
    const zipped = bufferedResponse(
      new Uint8Array(gzipSync('{"a":"zipped"}')),
      200,
      LightHeaders.fromRaw([
        "Content-Type",
        "application/json",
        "Content-Encoding",
        "gzip",
      ]) as unknown as Headers,
    );
    const out = await decodingWhenEncoded(async () => zipped)("http://pod/v1", { method: "POST" });
    expect(await out.json()).toEqual({ a: "zipped" });
    const plain = bufferedResponse(
      new TextEncoder().encode('{"a":1}') as Uint8Array<ArrayBuffer>,
      200,
      LightHeaders.fromRaw(["Content-Type", "application/json"]) as unknown as Headers,
    );
    expect(await decodingWhenEncoded(async () => plain)("http://pod/v1", { method: "POST" })).toBe(plain);
  });

  test("text() decodes with one shared decoder: a BOM dropped each time, no state carried between answers", async () => {
    const h = () => LightHeaders.fromRaw(["content-type", "text/plain"]) as unknown as Headers;
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, 0x61]);
    const cut = new Uint8Array([0xe2, 0x82]); // the first two bytes of "€": replaced, not held for the next answer
    expect(await bufferedResponse(bom, 200, h()).text()).toBe("a");
    expect(await bufferedResponse(cut, 200, h()).text()).toBe("\ufffd");
    expect(await bufferedResponse(new Uint8Array([0xac, 0x62]), 200, h()).text()).toBe("\ufffdb");
  });
});
