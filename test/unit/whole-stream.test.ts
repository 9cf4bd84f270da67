import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createGateway, type Gateway } from "../../src/gateway.ts";
import { createLogger } from "../../src/log.ts";
import { endsStream } from "../../src/proxy/accounting.ts";
import { attempt } from "../../src/proxy/attempt.ts";
import { type ChunkSource, tappedWhole } from "../../src/proxy/relay.ts";
import { serveBun } from "../../src/runtime/serve-bun.ts";
import type { RunningServer } from "../../src/runtime/server.ts";
import { testConfig } from "../helpers/config.ts";
import { chatStream, contentFrame, DONE, USAGE, usageFrame } from "../helpers/sse-frames.ts";

/**
 * A stream whose pod had already sent all of it when its answer was built (a short answer
 * sent at once) goes out as bytes on Bun (no relay: one write, Content-Length); a stream
 * still running is relayed as before, its chunks as they come.
 */

const enc = new TextEncoder();
const dec = new TextDecoder();
const WHOLE = chatStream(["Hel", "lo"], { usage: USAGE });
const SSE = { "content-type": "text/event-stream" };

/** attempt() against a pod whose body is `stream`; the event stream's reader it hands over. */
async function sourceOf(stream: ReadableStream<Uint8Array>): Promise<ChunkSource> {
  const r = await attempt({
    fetch: async () => new Response(stream, { headers: SSE }),
    url: "http://pod/v1/chat/completions",
    headers: new Headers(),
    body: enc.encode("{}"),
    clientSignal: new AbortController().signal,
    responseTimeoutMs: 60_000,
    firstByteTimeoutMs: 60_000,
  });
  if (r.kind !== "response" || !r.body) throw new Error(`no event stream: ${r.kind}`);
  return r.body;
}

describe("ChunkSource.ended: the pod's stream ended with its first chunk", () => {
  test("a body already in whole: the held chunk, taken", async () => {
    const src = await sourceOf(new Response(WHOLE).body!);
    const whole = await src.ended!();
    expect(dec.decode(whole)).toBe(WHOLE);
    expect(src.ready!()).toBeUndefined();
  });

  /** A pod stream: its first chunk at once; the next read waits until the test calls `then`. */
  function running() {
    let then: (c: ReadableStreamDefaultController<Uint8Array>) => void = () => {};
    let step: () => void = () => {};
    let pulls = 0;
    const stream = new ReadableStream<Uint8Array>(
      {
        start(c) {
          c.enqueue(enc.encode("data: 1\n\n"));
        },
        pull(c) {
          pulls++;
          return new Promise<void>((ok) => {
            step = () => {
              then(c);
              ok();
            };
          });
        },
      },
      { highWaterMark: 0 },
    );
    const next = (f: typeof then) => {
      then = f;
      step();
    };
    return { stream, next, pulls: () => pulls };
  }

  test("a first chunk without the stream's last event: nothing, and nothing read early", async () => {
    const pod = running();
    const src = await sourceOf(pod.stream);
    const before = pod.pulls();
    expect(await src.ended!((chunk) => endsStream("chat", chunk))).toBeUndefined();
    expect(pod.pulls()).toBe(before);
    expect(dec.decode(src.ready!()!.value)).toBe("data: 1\n\n");
  });

  test("a stream still running: nothing, and its chunks come in order, the early read replayed", async () => {
    const pod = running();
    const src = await sourceOf(pod.stream);
    expect(await src.ended!()).toBeUndefined();
    pod.next((c) => {
      c.enqueue(enc.encode("data: 2\n\n"));
      c.close();
    });
    expect(dec.decode(src.ready!()!.value)).toBe("data: 1\n\n");
    expect(dec.decode((await src.read()).value)).toBe("data: 2\n\n");
    expect((await src.read()).done).toBe(true);
  });

  test("a stream that breaks after its first chunk: nothing, and the next read fails", async () => {
    const pod = running();
    const src = await sourceOf(pod.stream);
    expect(await src.ended!()).toBeUndefined();
    pod.next((c) => c.error(new Error("pod reset")));
    expect(src.ready!()!.done).toBe(false);
    await expect(src.read()).rejects.toThrow("pod reset");
  });

  test("once the held chunk is taken, ended answers nothing and reads nothing", async () => {
    const src = await sourceOf(new Response(WHOLE).body!);
    src.ready!();
    expect(await src.ended!()).toBeUndefined();
    expect((await src.read()).done).toBe(true);
  });
});

describe("endsStream: the stream's last event, per route", () => {
  test("[DONE], response.completed / incomplete / failed, message_stop; not a running stream's chunk", () => {
    expect(endsStream("chat", enc.encode(WHOLE))).toBe(true);
    expect(endsStream("completions", enc.encode("data: {}\r\n\r\ndata: [DONE]\r\n\r\n"))).toBe(true);
    expect(endsStream("chat", enc.encode(contentFrame("Hel")))).toBe(false);
    const ev = (type: string) => `event: ${type}\ndata: {"type":"${type}"}\n\n`;
    expect(endsStream("responses", enc.encode(ev("response.created") + ev("response.completed")))).toBe(true);
    expect(endsStream("responses", enc.encode(ev("response.failed")))).toBe(true);
    expect(endsStream("responses", enc.encode(ev("response.output_text.delta")))).toBe(false);
    expect(endsStream("messages", enc.encode(ev("message_start") + ev("message_stop")))).toBe(true);
    expect(endsStream("messages", enc.encode(ev("content_block_delta")))).toBe(false);
  });
});

describe("tappedWhole", () => {
  test("the tap's pieces and what it held back, joined in order", () => {
    const tap = {
      chunk: (b: Uint8Array) => [b.subarray(0, 2), b.subarray(3)],
      flush: () => enc.encode("!"),
    };
    expect(dec.decode(tappedWhole(enc.encode("ab-cd"), tap))).toBe("abcd!");
    expect(dec.decode(tappedWhole(enc.encode("x"), undefined))).toBe("x");
  });
});

describe("end to end, the Bun entry's shape (directStreams: true)", () => {
  let release: () => void = () => {};
  let pod: ReturnType<typeof Bun.serve>;
  let gateway: Gateway;
  let server: RunningServer;
  const lines: Record<string, unknown>[] = [];
  beforeAll(async () => {
    pod = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(r) {
        if (r.method !== "POST") return new Response("ok");
        if (r.headers.get("x-test-no-done") === "1")
          return new Response(WHOLE.replace(DONE, ""), { headers: SSE });
        if (r.headers.get("x-test-slow") !== "1") return new Response(WHOLE, { headers: SSE });
        // The first token, then the rest only once the client has read that token.
        const gate = new Promise<void>((ok) => (release = ok));
        const body = new ReadableStream<Uint8Array>({
          async start(c) {
            c.enqueue(enc.encode(contentFrame("Hel")));
            await gate;
            c.enqueue(enc.encode(contentFrame("lo") + usageFrame() + DONE));
            c.close();
          },
        });
        return new Response(body, { headers: SSE });
      },
    });
    const config = testConfig({
      endpoints: [{ name: "pod", address: `127.0.0.1:${pod.port}`, models: ["m"] }],
    });
    gateway = createGateway({
      config,
      logger: createLogger("info", (line) => lines.push(JSON.parse(line))),
      directStreams: true,
    });
    gateway.start();
    server = await serveBun({ fetch: gateway.fetch, port: 0, hostname: "127.0.0.1" });
  });
  afterAll(async () => {
    await server.close();
    await gateway.stop();
    pod.stop(true);
  });

  const ask = (headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${server.port}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }] }),
    });
  const expected = chatStream(["Hel", "lo"]); // the usage frame the gateway asked for, dropped

  test("an answer already whole: one body with its length, the usage frame dropped, accounted", async () => {
    const res = await ask();
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    expect(res.headers.get("content-length")).toBe(String(enc.encode(expected).byteLength));
    expect(await res.text()).toBe(expected);
    const line = lines.findLast((l) => l["msg"] === "request")!;
    expect(line).toMatchObject({ status: 200, outcome: "success", promptTokens: 3, completionTokens: 2 });
    expect(typeof line["ttftMs"]).toBe("number");
  });

  test("an answer whole but without its last event ([DONE]) is relayed as before, the same bytes", async () => {
    const res = await ask({ "x-test-no-done": "1" });
    expect(res.headers.get("content-length")).toBeNull();
    expect(await res.text()).toBe(contentFrame("Hel") + contentFrame("lo"));
    const line = lines.findLast((l) => l["msg"] === "request")!;
    expect(line).toMatchObject({ status: 200, outcome: "success", promptTokens: 3, completionTokens: 2 });
  });

  test("a stream still running is relayed as it comes: the first token before the pod sends the rest", async () => {
    const res = await ask({ "x-test-slow": "1" });
    expect(res.headers.get("content-length")).toBeNull();
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(dec.decode(first.value)).toBe(contentFrame("Hel"));
    release();
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += dec.decode(r.value);
    expect(contentFrame("Hel") + rest).toBe(expected);
    const line = lines.findLast((l) => l["msg"] === "request")!;
    expect(line).toMatchObject({ status: 200, outcome: "success", promptTokens: 3, completionTokens: 2 });
  });
});
