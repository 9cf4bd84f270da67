import { describe, expect, test } from "bun:test";
import { GatewayError } from "../../src/errors.ts";
import { readBody } from "../../src/stages/read-body.ts";
import { FakeTime, flushMicrotasks } from "../helpers/fake-time.ts";

const enc = new TextEncoder();

/** A request whose body sends `first` and then nothing, until `fail` or never. */
function halfSent(first: string, opts: { signal?: AbortSignal; declared?: number } = {}) {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      c.enqueue(enc.encode(first));
    },
  });
  const request = new Request("http://gw/v1/chat/completions", {
    method: "POST",
    body,
    ...(opts.declared !== undefined ? { headers: { "content-length": String(opts.declared) } } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return { request, fail: (err: unknown) => controller.error(err) };
}

async function settle<T>(p: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  return p.then(
    (value) => ({ value }),
    (error) => ({ error }),
  );
}

describe("readBody", () => {
  test("a whole body within the limits is returned as sent", async () => {
    const time = new FakeTime();
    const req = new Request("http://gw/", { method: "POST", body: '{"model":"m"}' });
    const bytes = await readBody(req, { limit: 1024, timeoutMs: 100, setTimer: time.setTimer });
    expect(new TextDecoder().decode(bytes)).toBe('{"model":"m"}');
    expect(time.pending).toBe(0);
  });

  test("a body that stops half-way is a 408 once bodyReadTimeoutMs passes, not before", async () => {
    const time = new FakeTime();
    const { request } = halfSent('{"model":');
    const result = settle(readBody(request, { limit: 1024, timeoutMs: 5000, setTimer: time.setTimer }));
    let done = false;
    result.then(() => {
      done = true;
    });
    await time.advanceAsync(4999);
    expect(done).toBe(false);
    await time.advanceAsync(1);
    const { error } = await result;
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).status).toBe(408);
    expect((error as GatewayError).code).toBe("request_body_timeout");
    expect((error as GatewayError).message).toContain("bodyReadTimeoutMs");
  });

  test("with a declared length (read whole, no stream reader) a half-sent body is a 408 too, and a hang-up after it is no unhandled rejection", async () => {
    const time = new FakeTime();
    const { request, fail } = halfSent('{"model":', { declared: 200 });
    expect(request.headers.get("content-length")).toBe("200");
    const result = settle(readBody(request, { limit: 1024, timeoutMs: 5000, setTimer: time.setTimer }));
    let done = false;
    result.then(() => {
      done = true;
    });
    await time.advanceAsync(4999);
    expect(done).toBe(false);
    await time.advanceAsync(1);
    const { error } = await result;
    expect((error as GatewayError).status).toBe(408);
    expect(time.pending).toBe(0);
    fail(new Error("connection reset"));
    await flushMicrotasks();
  });

  test("a declared length is read whole without asking for request.body (Bun builds a stream for it)", async () => {
    const time = new FakeTime();
    const real = new Request("http://gw/", {
      method: "POST",
      headers: { "content-length": "13" },
      body: '{"model":"m"}',
    });
    let bodyAsked = 0;
    const request = new Proxy(real, {
      get(target, key) {
        if (key === "body") bodyAsked++;
        const v = Reflect.get(target, key, target);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const bytes = await readBody(request, { limit: 1024, timeoutMs: 100, setTimer: time.setTimer });
    expect(new TextDecoder().decode(bytes)).toBe('{"model":"m"}');
    expect(bodyAsked).toBe(0);
    expect(time.pending).toBe(0);
    const empty = new Request("http://gw/", { method: "POST", headers: { "content-length": "0" } });
    expect((await readBody(empty, { limit: 1024, timeoutMs: 100, setTimer: time.setTimer })).byteLength).toBe(
      0,
    );
    expect(time.pending).toBe(0);
  });

  test("on Bun a declared length is taken with bytes() (a native Uint8Array), elsewhere with arrayBuffer()", async () => {
    const time = new FakeTime();
    const real = new Request("http://gw/", {
      method: "POST",
      headers: { "content-length": "13" },
      body: '{"model":"m"}',
    });
    const asked: string[] = [];
    const request = new Proxy(real, {
      get(target, key) {
        if (key === "bytes" || key === "arrayBuffer") asked.push(key);
        const v = Reflect.get(target, key, target);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const bytes = await readBody(request, { limit: 1024, timeoutMs: 100, setTimer: time.setTimer });
    expect(new TextDecoder().decode(bytes)).toBe('{"model":"m"}');
    expect([bytes.byteOffset, bytes.buffer.byteLength]).toEqual([0, 13]);
    expect(asked).toEqual([typeof Bun !== "undefined" ? "bytes" : "arrayBuffer"]);
    expect(time.pending).toBe(0);
  });

  test("a client that hangs up mid-body is a 499, not an unhandled error", async () => {
    const time = new FakeTime();
    const gone = new AbortController();
    const { request, fail } = halfSent('{"model":', { signal: gone.signal });
    const result = settle(readBody(request, { limit: 1024, timeoutMs: 5000, setTimer: time.setTimer }));
    await flushMicrotasks();
    gone.abort();
    fail(new DOMException("The connection was closed.", "AbortError"));
    const { error } = await result;
    expect((error as GatewayError).status).toBe(499);
    expect(time.pending).toBe(0);
  });

  test("with a declared length, a read that fails is a 400 (or a 499 once the client left), its timer cancelled", async () => {
    // A failure must not pass for a body (ninth pass: one reaction for both outcomes was tried,
    // and cost Node ~0.5 us a request in process; the two reactions stay).
    for (const [aborted, status] of [
      [false, 400],
      [true, 499],
    ] as const) {
      const time = new FakeTime();
      const broken = {
        headers: new Headers({ "content-length": "12" }),
        signal: { aborted },
        arrayBuffer: () => Promise.reject(new TypeError("framing")),
        bytes: () => Promise.reject(new TypeError("framing")),
      } as unknown as Request;
      const { value, error } = await settle(
        readBody(broken, { limit: 1024, timeoutMs: 5000, setTimer: time.setTimer }),
      );
      expect(value).toBeUndefined();
      expect((error as GatewayError).status).toBe(status);
      expect(time.pending).toBe(0);
    }
  });

  test("a declared or streamed body over the limit is a 413", async () => {
    const time = new FakeTime();
    const declared = new Request("http://gw/", {
      method: "POST",
      body: "x".repeat(10),
      headers: { "content-length": "2000" },
    });
    const d = await settle(readBody(declared, { limit: 1024, timeoutMs: 100, setTimer: time.setTimer }));
    expect((d.error as GatewayError).status).toBe(413);
    const { request } = halfSent("x".repeat(2000));
    const s = await settle(readBody(request, { limit: 1024, timeoutMs: 100, setTimer: time.setTimer }));
    expect((s.error as GatewayError).status).toBe(413);
  });
});
