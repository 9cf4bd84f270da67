import { describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { createGateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { decodingFetch } from "../../src/proxy/decode.ts";
import { testConfig } from "../helpers/config.ts";

const enc = new TextEncoder();
const CORRUPT = new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);

/** A pod that labels every answer gzip; `body` says what it really sends. */
const pod = (body: Uint8Array<ArrayBuffer>, type: string) => async () =>
  new Response(body, { headers: { "content-type": type, "content-encoding": "gzip" } });

describe("decodingFetch", () => {
  const read = async (body: Uint8Array<ArrayBuffer>) =>
    (await decodingFetch(pod(body, "application/json"))("http://pod/x", {})).text();

  test("real gzip is decoded", async () => {
    expect(await read(new Uint8Array(gzipSync('{"a":1}')))).toBe('{"a":1}');
  });

  test("a body that is not compressed (already decoded, or a lying label) passes as it is", async () => {
    expect(await read(enc.encode('{"a":1}'))).toBe('{"a":1}');
  });

  test("corrupt gzip errors the body", async () => {
    await expect(read(CORRUPT)).rejects.toThrow();
  });

  test("asks the runtime not to decode (Bun prints a bare line when its decoder fails)", async () => {
    let init: RequestInit | undefined;
    await decodingFetch(async (_, i) => {
      init = i;
      return new Response("x");
    })("http://pod/x", { method: "POST" });
    expect((init as { decompress?: boolean }).decompress).toBe(false);
  });
});

describe("a pod sending corrupt gzip", () => {
  const gateway = (stream: boolean) =>
    createGateway({
      config: testConfig({
        endpoints: [{ name: "a", address: "10.0.0.1:8000", models: ["m"] }],
        upstream: { ejectAfterFailures: 100 },
      }),
      fetch: decodingFetch(pod(CORRUPT, stream ? "text/event-stream" : "application/json")),
      logger: silentLogger(),
    });
  const chat = (stream: boolean) =>
    new Request("http://gw/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", stream, messages: [{ role: "user", content: "x" }] }),
    });

  for (const stream of [false, true])
    test(`${stream ? "streamed" : "non-streamed"}: the client gets a clear 502 in OpenAI's error shape`, async () => {
      const gw = gateway(stream);
      const res = await gw.fetch(chat(stream));
      expect(res.status).toBe(502);
      const body = await res.json();
      expect(body.error.type).toBe("server_error");
      expect(body.error.message).toContain("model server");
      expect(gw.deps.inflight.total()).toBe(0);
    });
});
