import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { GatewayError } from "../../src/errors.ts";
import { createGateway, type Gateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { jsonBody } from "../../src/openai/body.ts";
import { routeOf } from "../../src/openai/routes.ts";
import type { InferenceRequest } from "../../src/request.ts";
import { serveBun } from "../../src/runtime/serve-bun.ts";
import type { RunningServer } from "../../src/runtime/server.ts";
import { Exchange } from "../../src/stages/exchange.ts";
import { upstreamBody } from "../../src/stages/forward.ts";
import { parse } from "../../src/stages/parse.ts";
import { readBodyAsBlob } from "../../src/stages/read-body.ts";
import { testConfig } from "../helpers/config.ts";
import { FakeTime } from "../helpers/fake-time.ts";

/**
 * The Bun entry reads a body of declared length as the runtime's Blob and, when the pod gets
 * the body unchanged, hands fetch that Blob (Bun sends it as it is, where it copies bytes).
 */

/** A POST whose content-length is declared as a client sends it (a string body's own length). */
const post = (body: BodyInit, headers: Record<string, string> = {}) =>
  new Request("http://gw/v1/chat/completions", {
    method: "POST",
    body,
    headers:
      typeof body === "string" ? { "content-length": String(Buffer.byteLength(body)), ...headers } : headers,
  });
const CHAT = '{"model":"m","messages":[{"role":"user","content":"hi"}]}';

describe("readBodyAsBlob", () => {
  test("a declared length within the limit comes as a Blob of the very bytes, its timer cleared", async () => {
    const time = new FakeTime();
    const got = await readBodyAsBlob(post('{"model":"m"}'), {
      limit: 1024,
      timeoutMs: 100,
      setTimer: time.setTimer,
    });
    expect(got).toBeInstanceOf(Blob);
    expect(await (got as Blob).text()).toBe('{"model":"m"}');
    expect(time.pending).toBe(0);
  });

  test("over the limit is still a 413, before anything is read", async () => {
    const error = await readBodyAsBlob(post("x".repeat(100)), { limit: 10, timeoutMs: 100 }).catch((e) => e);
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).status).toBe(413);
  });

  test("a body of no declared length (chunked) comes as bytes, as readBody reads it", async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('{"model":"m"}'));
        c.close();
      },
    });
    const got = await readBodyAsBlob(post(stream), { limit: 1024, timeoutMs: 100 });
    expect(got).toBeInstanceOf(Uint8Array);
  });

  test("a declared body that never arrives is a 408 when bodyReadTimeoutMs passes", async () => {
    const time = new FakeTime();
    const stream = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(new TextEncoder().encode("{")) });
    const request = post(stream, { "content-length": "50" });
    const result = readBodyAsBlob(request, { limit: 1024, timeoutMs: 500, setTimer: time.setTimer }).catch(
      (e) => e,
    );
    await time.advanceAsync(500);
    const error = await result;
    expect((error as GatewayError).status).toBe(408);
  });
});

describe("jsonBody over a Blob", () => {
  test("parses the Blob's bytes and keeps both", async () => {
    const text = '{"model":"m","messages":[{"role":"user","content":"héllo"}]}';
    const read = await jsonBody(() => Promise.resolve(new Blob([text])));
    expect(read.body).toEqual(JSON.parse(text));
    expect(new TextDecoder().decode(read.bytes)).toBe(text);
    expect(read.blob).toBeInstanceOf(Blob);
  });

  test("a Blob parses to what the bytes parse to: a BOM, bad UTF-8, repeated keys, __proto__, lone surrogates", async () => {
    const enc = new TextEncoder();
    const bodies = [
      new Uint8Array([0xef, 0xbb, 0xbf, ...enc.encode('{"model":"m"}')]),
      new Uint8Array([...enc.encode('{"model":"'), 0xff, 0xfe, ...enc.encode('"}')]),
      enc.encode('{"__proto__":{"x":1},"a":1e400,"b":"\\ud800","model":"m","model":"n"}'),
      enc.encode(' \n{"a":"é😀","n":[1,2.5e-3,null,true]} \t'),
    ];
    for (const bytes of bodies) {
      const fromBytes = await jsonBody(() => Promise.resolve(bytes));
      const fromBlob = await jsonBody(() => Promise.resolve(new Blob([bytes])));
      expect(fromBlob.body).toStrictEqual(fromBytes.body);
      expect(JSON.stringify(fromBlob.body)).toBe(JSON.stringify(fromBytes.body));
      expect(fromBlob.bytes).toEqual(bytes);
    }
  });

  test("bad JSON in a Blob is the same 400 invalid_json", async () => {
    const error = await jsonBody(() => Promise.resolve(new Blob(["{nope"]))).catch((e) => e);
    expect((error as GatewayError).status).toBe(400);
    expect((error as GatewayError).code).toBe("invalid_json");
  });

  test("bytes read the ordinary way leave blob undefined", async () => {
    const read = await jsonBody(() => Promise.resolve(new TextEncoder().encode('{"model":"m"}')));
    expect(read.blob).toBeUndefined();
  });
});

describe("parse with bodyAsBlob", () => {
  const parsedBy = async (bodyAsBlob: boolean) => {
    const stage = parse({
      route: routeOf("chat"),
      maxBodyBytes: () => 1024,
      bodyReadTimeoutMs: () => 1000,
      bodyAsBlob,
    });
    const x = new Exchange(post(CHAT, { "content-type": "application/json" }), "t");
    await stage(x);
    return x.inferenceRequest;
  };
  test("the request carries the Blob beside its bytes only when asked", async () => {
    const withBlob = await parsedBy(true);
    expect(withBlob.blob).toBeInstanceOf(Blob);
    expect(new TextDecoder().decode(withBlob.bytes)).toBe(CHAT);
    expect((await parsedBy(false)).blob).toBeUndefined();
  });
});

describe("upstreamBody and the Blob", () => {
  const enc = new TextEncoder();
  const req = (body: Record<string, unknown>, kind = "chat"): InferenceRequest => {
    const text = JSON.stringify(body);
    return {
      kind,
      path: "/v1/x",
      model: String(body["model"]),
      stream: body["stream"] === true,
      body,
      bytes: enc.encode(text),
      blob: new Blob([text]),
      objective: undefined,
      fairnessId: "default-flow",
      modelRewriteHeader: undefined,
    } as InferenceRequest;
  };
  const to = (target: string) => ({ requested: "m", target, rewriteName: undefined });

  test("unchanged: the Blob goes (with the bytes it holds)", () => {
    const r = req({ model: "m", messages: [] });
    const out = upstreamBody(r, to("m"));
    expect(out.blob).toBe(r.blob!);
    expect(out.bytes).toBe(r.bytes);
  });

  test("renamed, or a stream asked for usage: the changed bytes go, never the client's Blob", () => {
    expect(upstreamBody(req({ model: "m", messages: [] }), to("n")).blob).toBeUndefined();
    expect(upstreamBody(req({ model: "m", stream: true, messages: [] }), to("m")).blob).toBeUndefined();
  });
});

describe("end to end, the Bun entry's shape (directStreams: true)", () => {
  const seen: string[] = [];
  /** What the gateway handed its fetch as each body: a Blob, or bytes. */
  const sentAs: string[] = [];
  let pod: ReturnType<typeof Bun.serve>;
  let gateway: Gateway;
  let server: RunningServer;
  beforeAll(async () => {
    pod = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(r) {
        if (r.method !== "POST") return new Response("ok");
        const text = await r.text();
        seen.push(text);
        return Response.json({ object: "chat.completion", model: JSON.parse(text).model, choices: [] });
      },
    });
    const rewrite = `
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: { name: alias }
spec:
  poolRef: { name: pool }
  rules: [{ matches: [{ model: { type: Exact, value: alias } }], targets: [{ modelRewrite: m }] }]
`;
    const config = testConfig(
      { endpoints: [{ name: "pod", address: `127.0.0.1:${pod.port}`, models: ["m"] }] },
      rewrite,
    );
    gateway = createGateway({
      config,
      logger: silentLogger(),
      directStreams: true,
      fetch: (url, init) => {
        if (init.method === "POST") sentAs.push(init.body instanceof Blob ? "blob" : "bytes");
        return fetch(url, init);
      },
    });
    gateway.start();
    server = await serveBun({ fetch: gateway.fetch, port: 0, hostname: "127.0.0.1" });
  });
  afterAll(async () => {
    await server.close();
    await gateway.stop();
    pod.stop(true);
  });

  test("a 30 KiB body reaches the pod byte for byte; a renamed one with the target's name", async () => {
    const prompt = "ünïcode and words ".repeat(1800);
    const text = JSON.stringify({ model: "m", messages: [{ role: "user", content: prompt }], max_tokens: 1 });
    const url = `http://127.0.0.1:${server.port}/v1/chat/completions`;
    const headers = { "content-type": "application/json" };
    const res = await fetch(url, { method: "POST", headers, body: text });
    expect(res.status).toBe(200);
    expect(seen.at(-1)).toBe(text);
    expect(sentAs.at(-1)).toBe("blob");
    const aliased = text.replace('"model":"m"', '"model":"alias"');
    const res2 = await fetch(url, { method: "POST", headers, body: aliased });
    expect(res2.status).toBe(200);
    expect(JSON.parse(seen.at(-1)!)).toEqual(JSON.parse(text));
    expect(sentAs.at(-1)).toBe("bytes");
  });
});
