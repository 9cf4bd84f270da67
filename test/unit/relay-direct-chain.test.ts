import { describe, expect, test } from "bun:test";
import { createGateway } from "../../src/gateway.ts";
import { createLogger } from "../../src/log.ts";
import type { ChunkSource, DirectController, DirectSource } from "../../src/proxy/relay.ts";
import { testConfig } from "../helpers/config.ts";
import { directRelay } from "../helpers/direct-relay.ts";
import { FakeTime } from "../helpers/fake-time.ts";
import { contentFrame, DONE } from "../helpers/sse-frames.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
type ReadResult = Awaited<ReturnType<ChunkSource["read"]>>;

/** A pod whose reads the test settles one by one. */
function pod() {
  const pending: { resolve(r: ReadResult): void; reject(e: Error): void }[] = [];
  let reads = 0;
  const source: ChunkSource = {
    read: () => {
      reads++;
      return new Promise<ReadResult>((resolve, reject) => pending.push({ resolve, reject }));
    },
    cancel: async () => {
      for (const p of pending.splice(0)) p.resolve({ done: true, value: undefined });
    },
  };
  return {
    source,
    reads: () => reads,
    send: (text: string) => pending.shift()!.resolve({ done: false, value: enc.encode(text) }),
    end: () => pending.shift()!.resolve({ done: true, value: undefined }),
    fail: (err: Error) => pending.shift()!.reject(err),
  };
}

/** Enough microtask turns for any shape of the loop (the tests of behaviour, not of turns). */
const turns = async () => {
  for (let i = 0; i < 10; i++) await null;
};

// Issue 19, fifth pass: the direct loop was an async function awaiting an async `next()` per
// chunk (three promises and their turns per chunk); it is now the read's own reaction.
describe("relay, direct shape: each chunk goes out in its read's own reaction", () => {
  test("a chunk is written and flushed one microtask turn after the pod's read settles", async () => {
    const p = pod();
    const r = directRelay(p.source, { idleTimeoutMs: 1000, time: new FakeTime() });
    expect(p.reads()).toBe(1);
    for (const text of ["a", "b", "c"]) {
      p.send(text);
      await null; // the read's reaction runs before this turn ends
      expect(r.calls.at(-2)).toBe(`write ${text}`);
      expect(r.calls.at(-1)).toBe("flush");
    }
    p.end();
    await null;
    expect(r.calls.at(-1)).toBe("close");
    expect(r.ends).toEqual(["success"]);
    await r.pulled;
  });

  test("a pod that breaks: the SSE error event, then the close, one end", async () => {
    const p = pod();
    const r = directRelay(p.source);
    p.send("a");
    await turns();
    p.fail(new Error("reset"));
    await r.pulled;
    expect(r.calls[2]).toStartWith("write data: ");
    expect(r.calls[2]).toContain("upstream_stream_error");
    expect(r.calls.at(-1)).toBe("close");
    expect(r.ends).toEqual(["error"]);
  });

  test("a silent pod: the idle watch ends the stream with an error event and aborts the pod", async () => {
    const time = new FakeTime();
    const p = pod();
    const r = directRelay(p.source, { idleTimeoutMs: 100, time });
    p.send("a");
    await turns();
    time.advance(99);
    await turns();
    expect(r.ends).toEqual([]);
    time.advance(1);
    await r.pulled;
    expect(r.calls).toContain("abort");
    expect(r.calls.some((c) => c.includes("no data from the model server for 100 ms"))).toBe(true);
    expect(r.ends).toEqual(["error"]);
  });

  test("a client that leaves mid-stream: the loop stops, nothing more is written, one end", async () => {
    const p = pod();
    const r = directRelay(p.source);
    p.send("a");
    await turns();
    await r.cancel(new Error("gone"));
    await r.pulled;
    expect(r.ends).toEqual(["aborted"]);
    expect(r.calls).toEqual(["write a", "flush", "abort"]);
  });
});

describe("relay, direct shape: the last event goes out with the close", () => {
  test("a chunk holding the last event is written without a flush of its own; the close sends it", async () => {
    const p = pod();
    const r = directRelay(p.source, { lastEvent: (c) => dec.decode(c).endsWith("data: [DONE]\n\n") });
    p.send("data: {}\n\n");
    await turns();
    p.send("data: [DONE]\n\n");
    await turns();
    expect(r.calls).toEqual(["write data: {}\n\n", "flush", "write data: [DONE]\n\n"]);
    p.end();
    await r.pulled;
    expect(r.calls.slice(2)).toEqual(["write data: [DONE]\n\n", "close"]);
    expect(r.ends).toEqual(["success"]);
  });

  test("through the gateway: the chat route's [DONE] chunk is not flushed, the close sends it", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((ok) => (release = ok));
    const pod = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch(r) {
        if (r.method !== "POST") return new Response("ok");
        const body = new ReadableStream<Uint8Array>({
          async start(c) {
            c.enqueue(enc.encode(contentFrame("Hel")));
            await gate;
            c.enqueue(enc.encode(contentFrame("lo")));
            await Bun.sleep(0);
            c.enqueue(enc.encode(DONE));
            c.close();
          },
        });
        return new Response(body, { headers: { "content-type": "text/event-stream" } });
      },
    });
    let source: DirectSource | undefined;
    const gateway = createGateway({
      config: testConfig({ endpoints: [{ name: "pod", address: `127.0.0.1:${pod.port}`, models: ["m"] }] }),
      logger: createLogger("silent", () => {}),
      directStreams: (s) => {
        source = s;
        return new ReadableStream();
      },
    });
    gateway.start();
    try {
      const res = await gateway.fetch(
        new Request("http://gw/v1/chat/completions", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }] }),
        }),
      );
      expect(res.status).toBe(200);
      const calls: string[] = [];
      const pulled = source!.pull({
        write: (b) => {
          const text = dec.decode(b);
          calls.push(text.includes("[DONE]") ? "write [DONE]" : "write chunk");
          return b.byteLength;
        },
        flush: () => {
          calls.push("flush");
          if (calls.length === 2) release(); // the client has the first token: the pod goes on
          return 0;
        },
        close: () => calls.push("close"),
      });
      await pulled;
      // The first token flushed at once; "lo" and [DONE] may come in one read or two.
      expect(calls.slice(0, 2)).toEqual(["write chunk", "flush"]);
      expect(calls.slice(-2)).toEqual(["write [DONE]", "close"]);
    } finally {
      await gateway.stop();
      pod.stop(true);
    }
  });
});

describe("Bun's direct stream, what the last-event rule relies on", () => {
  test("a write left without a flush reaches the client while the stream stays open", async () => {
    let letClose: () => void = () => {};
    const open = new Promise<void>((ok) => (letClose = ok));
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: () =>
        new Response(
          new ReadableStream({
            type: "direct",
            async pull(c: DirectController) {
              c.write(enc.encode("data: {}\n\n"));
              c.flush();
              c.write(enc.encode("data: [DONE]\n\n")); // no flush: Bun sends it on its own
              await open; // the pod keeps its stream open until the client has [DONE]
              c.close();
            },
          } as unknown as UnderlyingDefaultSource<Uint8Array>),
          { headers: { "content-type": "text/event-stream" } },
        ),
    });
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/`);
      const reader = res.body!.getReader();
      let text = "";
      while (!text.includes("[DONE]")) {
        const r = await reader.read();
        expect(r.done).toBe(false);
        text += dec.decode(r.value);
      }
      expect(text).toBe("data: {}\n\ndata: [DONE]\n\n");
      letClose();
      expect((await reader.read()).done).toBe(true);
    } finally {
      server.stop(true);
    }
  });
});
