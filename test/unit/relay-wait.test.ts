import { describe, expect, test } from "bun:test";
import { Closing } from "../../src/lifecycle.ts";
import { type ChunkSource, SHUTDOWN_MESSAGE } from "../../src/proxy/relay.ts";
import { ChunkQueue } from "../../src/runtime/node-chunks.ts";
import { directRelay } from "../helpers/direct-relay.ts";
import { FakeTime } from "../helpers/fake-time.ts";

// Issue 19, twelfth pass: the direct loop asks a source that hands chunks over itself
// (ChunkSource.wait: the Bun wire client's queue) for the next chunk, so a paced stream's chunk
// is written in the pod socket's own callback, with no read promise; the same bytes, ends and
// timeouts as through `read`.

const enc = new TextEncoder();

/** The pod's queue, its calls counted: reads, waits that took, aborts. */
function pod(readAhead = 64 * 1024) {
  const seen = { reads: 0, waits: 0, aborted: [] as string[], resumed: 0 };
  const queue = new ChunkQueue(
    () => seen.resumed++,
    (reason) => seen.aborted.push(reason.message),
    readAhead,
    true,
  );
  const source: ChunkSource = {
    read: () => {
      seen.reads++;
      return queue.read() as ReturnType<ChunkSource["read"]>;
    },
    wait: (waiter) => {
      const took = queue.wait(waiter);
      if (took) seen.waits++;
      return took;
    },
    cancel: (reason) => queue.cancel(reason),
  };
  return { queue, source, seen, send: (text: string) => queue.push(enc.encode(text)) };
}

describe("relay, direct shape, over a source that hands chunks over (wait)", () => {
  test("each chunk is written and flushed inside the push that brings it; no read; the end closes once", async () => {
    const p = pod();
    const r = directRelay(p.source, { idleTimeoutMs: 1000, time: new FakeTime() });
    for (const text of ["a", "b", "c"]) {
      p.send(text);
      expect(r.calls.slice(-2)).toEqual([`write ${text}`, "flush"]); // no await: written in the push
    }
    expect(p.seen.reads).toBe(0);
    expect(p.seen.waits).toBe(4);
    p.queue.end();
    await r.pulled;
    expect(r.calls).toEqual(["write a", "flush", "write b", "flush", "write c", "flush", "close"]);
    expect(r.ends).toEqual(["success"]);
  });

  test("chunks already queued are read (wait refuses), then the loop waits again", async () => {
    const p = pod();
    p.send("a");
    p.send("b");
    const r = directRelay(p.source);
    await null;
    await null;
    await null;
    expect(r.calls).toEqual(["write a", "flush", "write b", "flush"]);
    expect(p.seen.reads).toBe(2);
    const waits = p.seen.waits;
    expect(waits).toBeGreaterThanOrEqual(1);
    p.send("c");
    expect(r.calls.slice(-2)).toEqual(["write c", "flush"]);
    p.queue.end();
    await r.pulled;
    expect(r.ends).toEqual(["success"]);
  });

  test("a full destination: no wait until its write settles; what came meanwhile is read, in order", async () => {
    const p = pod();
    let room: () => void = () => {};
    let full = true;
    const r = directRelay(p.source, {
      writeResult: () => (full ? new Promise<number>((ok) => (room = () => ok(1))) : 1),
    });
    p.send("a"); // written, the destination full: the loop waits on the write
    expect(p.seen.waits).toBe(1);
    p.send("b");
    p.send("c");
    expect(r.calls).toEqual(["write a"]);
    full = false;
    room();
    for (let i = 0; i < 10; i++) await null;
    expect(r.calls).toEqual(["write a", "write b", "flush", "write c", "flush"]);
    p.queue.end();
    await r.pulled;
    expect(r.ends).toEqual(["success"]);
  });

  test("a pod that breaks while waited on: the SSE error event, then the close, one end", async () => {
    const p = pod();
    const r = directRelay(p.source);
    p.send("a");
    p.queue.fail(new Error("reset"));
    await r.pulled;
    expect(r.calls[2]).toStartWith("write data: ");
    expect(r.calls[2]).toContain("upstream_stream_error");
    expect(r.calls[2]).toContain("reset");
    expect(r.calls.at(-1)).toBe("close");
    expect(r.ends).toEqual(["error"]);
  });

  test("a silent pod: the idle watch cancels the wait, ends with an error event and aborts the pod", async () => {
    const time = new FakeTime();
    const p = pod();
    const r = directRelay(p.source, { idleTimeoutMs: 100, time });
    p.send("a");
    time.advance(60);
    p.send("b"); // the watch restarts with each wait
    time.advance(99);
    await null;
    expect(r.ends).toEqual([]);
    time.advance(1);
    await r.pulled;
    expect(p.seen.aborted).toEqual(["no data from the model server for 100 ms"]);
    expect(r.aborts).toContain("no data from the model server for 100 ms");
    expect(r.calls.some((c) => c.includes("upstream_stream_error"))).toBe(true);
    expect(r.ends).toEqual(["error"]);
  });

  test("a client that leaves while the loop waits: nothing more is written, the pod is aborted, one end", async () => {
    const p = pod();
    const r = directRelay(p.source);
    p.send("a");
    await r.cancel(new Error("gone"));
    await r.pulled;
    p.send("late");
    expect(r.ends).toEqual(["aborted"]);
    expect(r.calls).toEqual(["write a", "flush", "abort"]);
    expect(r.aborts).toEqual(["client disconnected"]);
    expect(p.seen.aborted).toEqual(["gone"]);
  });

  test("shutdown past its grace while the loop waits: the shutting_down event, the pod aborted, one end", async () => {
    const closing = new Closing();
    const p = pod();
    const r = directRelay(p.source, { closing });
    p.send("a");
    closing.close();
    await r.pulled;
    expect(r.calls.slice(0, 3)).toEqual(["write a", "flush", "abort"]);
    expect(r.aborts).toEqual([SHUTDOWN_MESSAGE]);
    expect(r.calls[3]).toContain('"code":"shutting_down"');
    expect(r.calls.slice(4)).toEqual(["close"]);
    expect(r.ends).toEqual(["error"]);
  });
});
