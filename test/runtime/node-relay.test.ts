import { describe, expect, test } from "bun:test";
import { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import { Closing } from "../../src/lifecycle.ts";
import { type ChunkSource, relay } from "../../src/proxy/relay.ts";
import { NODE_DIRECT, NodeDirectBody, nodeDirectStreams } from "../../src/runtime/node-relay.ts";
import { writeResponse } from "../../src/runtime/node-respond.ts";
import type { Outcome } from "../../src/scope.ts";
import { FakeTime, flushMicrotasks } from "../helpers/fake-time.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A pod's body as attempt hands it over: `chunks`, then the end, a break, or silence. */
function pod(chunks: string[], opts: { failAfter?: number; hang?: boolean } = {}) {
  let i = 0;
  let cancelled: unknown;
  let wake: (() => void) | undefined;
  const source: ChunkSource = {
    read() {
      if (cancelled !== undefined) return Promise.resolve({ done: true, value: undefined });
      if (opts.failAfter !== undefined && i === opts.failAfter) return Promise.reject(new Error("pod died"));
      if (i < chunks.length) return Promise.resolve({ done: false, value: enc.encode(chunks[i++]!) });
      if (!opts.hang) return Promise.resolve({ done: true, value: undefined });
      return new Promise((resolve) => {
        wake = () => resolve({ done: true, value: undefined });
      });
    },
    cancel(reason) {
      cancelled = reason ?? "cancelled";
      wake?.();
      return Promise.resolve();
    },
  };
  return { source, read: () => i, cancelled: () => cancelled !== undefined };
}

function harness(extra: Record<string, unknown> = {}) {
  const ends: Outcome[] = [];
  let aborts = 0;
  return {
    ends,
    aborts: () => aborts,
    opts: {
      sse: true,
      direct: nodeDirectStreams,
      onEnd: (o: Outcome) => ends.push(o),
      abortUpstream: () => aborts++,
      ...extra,
    },
  };
}

/** The part of a ServerResponse writeResponse uses, recording what it is asked to do; `room` bytes before write returns false. */
class FakeOutgoing extends EventEmitter {
  chunks: string[] = [];
  head: { status: number; headers: Record<string, unknown> } | undefined;
  ended = false;
  destroyed = false;
  writableFinished = false;
  error: Error | undefined;
  buffered = 0;
  constructor(public room = Number.POSITIVE_INFINITY) {
    super();
  }
  writeHead(status: number, headers: Record<string, unknown>) {
    this.head = { status, headers };
  }
  flushed = 0;
  flushHeaders() {
    this.flushed++;
  }
  write(bytes: Uint8Array) {
    this.chunks.push(dec.decode(bytes));
    this.buffered += bytes.byteLength;
    return this.buffered < this.room;
  }
  end() {
    this.ended = true;
    this.writableFinished = true;
    this.emit("close");
  }
  destroy(err?: Error) {
    this.destroyed = true;
    this.error = err;
    this.emit("close");
  }
  /** The client read everything written so far. */
  drained() {
    this.buffered = 0;
    this.emit("drain");
  }
  /** The client went away. */
  leave() {
    this.destroyed = true;
    this.emit("close");
  }
}

function serve(body: ReadableStream<Uint8Array>, out: FakeOutgoing) {
  const res = new Response(null, { headers: { "content-type": "text/event-stream" } });
  // What node-server's Response keeps; a platform Response would not carry the Node body through.
  const key = Symbol("cache");
  (res as unknown as Record<symbol, unknown>)[key] = [200, body, { "content-type": "text/event-stream" }];
  writeResponse(res, out as unknown as ServerResponse, key);
}

describe("the relay's Node shape, written by writeResponse", () => {
  test("writes each chunk as it comes, the first one during writeResponse itself, and ends once", async () => {
    const p = pod(["data: a\n\n", "data: b\n\n"]);
    const h = harness();
    const out = new FakeOutgoing();
    serve(
      relay({ ...p.source, ready: () => ({ done: false, value: enc.encode("data: 0\n\n") }) }, h.opts),
      out,
    );
    expect(out.chunks).toEqual(["data: 0\n\n"]); // no read, no promise before the first chunk
    await flushMicrotasks(20);
    expect(out.chunks).toEqual(["data: 0\n\n", "data: a\n\n", "data: b\n\n"]);
    expect(out.ended).toBe(true);
    expect(h.ends).toEqual(["success"]);
  });

  test("the head goes out with the first chunk; alone, one turn later, only when no chunk is at hand", async () => {
    const turn = () => new Promise((r) => setImmediate(r));
    const withChunk = new FakeOutgoing();
    const ready = () => ({ done: false as const, value: enc.encode("data: 0\n\n") });
    serve(relay({ ...pod([], { hang: true }).source, ready }, harness().opts), withChunk);
    await turn();
    expect(withChunk.flushed).toBe(0);
    const silent = new FakeOutgoing();
    serve(relay(pod([], { hang: true }).source, harness().opts), silent);
    expect(silent.flushed).toBe(0);
    await turn();
    expect(silent.flushed).toBe(1);
    expect(silent.chunks).toEqual([]);
  });

  test("a full socket stops the reads until 'drain' (backpressure reaches the pod)", async () => {
    const p = pod(Array.from({ length: 20 }, () => "x".repeat(1024)));
    const h = harness();
    const out = new FakeOutgoing(4096);
    serve(relay(p.source, h.opts), out);
    await flushMicrotasks(50);
    expect(p.read()).toBe(4);
    out.drained();
    await flushMicrotasks(50);
    expect(p.read()).toBe(8);
    expect(h.ends).toEqual([]);
  });

  test("a client that leaves (even while a write waits for 'drain') aborts the pod's request and ends once as aborted", async () => {
    const p = pod(Array.from({ length: 20 }, () => "x".repeat(1024)));
    const h = harness();
    const out = new FakeOutgoing(2048);
    serve(relay(p.source, h.opts), out);
    await flushMicrotasks(20);
    out.leave();
    out.leave();
    await flushMicrotasks(20);
    expect(h.ends).toEqual(["aborted"]);
    expect(h.aborts()).toBe(1);
    expect(p.cancelled()).toBe(true);
    expect(p.read()).toBe(2);
    expect(out.listenerCount("close")).toBe(0);
  });

  test("a pod that breaks off ends the stream with an SSE error event, then the end", async () => {
    const p = pod(["data: a\n\n"], { failAfter: 1 });
    const h = harness();
    const out = new FakeOutgoing();
    serve(relay(p.source, h.opts), out);
    await flushMicrotasks(20);
    expect(out.chunks[0]).toBe("data: a\n\n");
    expect(JSON.parse(out.chunks[1]!.slice("data: ".length)).error.code).toBe("upstream_stream_error");
    expect(out.ended).toBe(true);
    expect(h.ends).toEqual(["error"]);
  });

  test("a broken non-SSE body cuts the connection", async () => {
    const p = pod(["{"], { failAfter: 1 });
    const h = harness({ sse: false });
    const out = new FakeOutgoing();
    serve(relay(p.source, h.opts), out);
    await flushMicrotasks(20);
    expect(out.destroyed).toBe(true);
    expect(out.error?.message).toContain("pod died");
    expect(h.ends).toEqual(["error"]);
  });

  test("idle timeout and shutdown end the stream with their error events and abort the pod's request", async () => {
    const time = new FakeTime();
    const idle = pod(["data: a\n\n"], { hang: true });
    const h = harness({ idleTimeoutMs: 1000, ...time });
    const out = new FakeOutgoing();
    serve(relay(idle.source, h.opts), out);
    await flushMicrotasks(20);
    await time.advanceAsync(999);
    expect(h.ends).toEqual([]);
    await time.advanceAsync(1);
    await flushMicrotasks(20);
    expect(JSON.parse(out.chunks.at(-1)!.slice("data: ".length)).error.code).toBe("upstream_stream_error");
    expect(h.ends).toEqual(["error"]);
    expect(h.aborts()).toBe(1);

    const closing = new Closing();
    const waiting = pod(["data: a\n\n"], { hang: true });
    const h2 = harness({ closing });
    const out2 = new FakeOutgoing();
    serve(relay(waiting.source, h2.opts), out2);
    await flushMicrotasks(20);
    closing.close();
    await flushMicrotasks(20);
    expect(JSON.parse(out2.chunks.at(-1)!.slice("data: ".length)).error.code).toBe("shutting_down");
    expect(out2.ended).toBe(true);
    expect(h2.ends).toEqual(["error"]);
    expect(h2.aborts()).toBe(1);
  });
});

describe("the relay's Node shape, read as a stream (anyone but writeResponse)", () => {
  test("passes every chunk through, one per read, and ends once with success", async () => {
    const p = pod(["data: a\n\n", "data: b\n\n", "data: c\n\n"]);
    const h = harness();
    const reader = relay(p.source, h.opts).getReader();
    expect(dec.decode((await reader.read()).value)).toBe("data: a\n\n");
    await flushMicrotasks(20);
    expect(p.read()).toBe(1); // no read-ahead past what the reader asked for
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += dec.decode(r.value);
    expect(rest).toBe("data: b\n\ndata: c\n\n");
    expect(h.ends).toEqual(["success"]);
  });

  test("a cancel aborts the pod's request and ends once as aborted", async () => {
    const p = pod(["1", "2", "3"], { hang: true });
    const h = harness();
    const reader = relay(p.source, h.opts).getReader();
    await reader.read();
    await reader.cancel("client left");
    await reader.cancel("again");
    expect(h.ends).toEqual(["aborted"]);
    expect(h.aborts()).toBe(1);
    expect(p.cancelled()).toBe(true);
  });

  test("async iteration reads it too", async () => {
    const body = relay(pod(["a", "b"]).source, harness().opts) as unknown as AsyncIterable<Uint8Array>;
    let got = "";
    for await (const chunk of body) got += dec.decode(chunk);
    expect(got).toBe("ab");
  });

  test("the source goes to one reader: the writer or a stream, not both", () => {
    const mine = new NodeDirectBody({ pull: async () => {}, cancel: async () => {} });
    expect(mine[NODE_DIRECT]()).toBeDefined();
    expect(mine.locked).toBe(true);
    expect(() => mine.getReader()).toThrow(TypeError);
    const read = new NodeDirectBody({ pull: async () => {}, cancel: async () => {} });
    read.getReader();
    expect(read[NODE_DIRECT]()).toBeUndefined();
  });
});
