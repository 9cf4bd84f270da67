import { describe, expect, test } from "bun:test";
import { CHUNK_SOURCE, ChunkQueue, streamOf } from "../../src/runtime/node-chunks.ts";
import { streamedResponse } from "../../src/runtime/node-upstream-response.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

/** A queue whose socket pauses and aborts are counted. */
function queue(readAhead = 10) {
  const seen = { resumed: 0, aborted: [] as string[] };
  const q = new ChunkQueue(
    () => seen.resumed++,
    (reason) => seen.aborted.push(reason.message),
    readAhead,
  );
  return { q, seen };
}

describe("ChunkQueue (a streamed upstream body under Node, no web stream)", () => {
  test("reads chunks in order, a pending read gets the next chunk, then done", async () => {
    const { q } = queue();
    q.push(bytes("a"));
    expect(text((await q.read()).value)).toBe("a");
    const pending = q.read();
    q.push(bytes("b"));
    expect(text((await pending).value)).toBe("b");
    const last = q.read();
    q.end();
    expect(await last).toEqual({ done: true, value: undefined });
    expect((await q.read()).done).toBe(true);
  });

  test("pauses the socket once readAhead bytes wait unread, and resumes it when a read takes them", async () => {
    const { q, seen } = queue(10);
    expect(q.push(bytes("12345"))).toBe(true);
    expect(q.push(bytes("67890"))).toBe(false); // 10 bytes queued: pause
    expect(seen.resumed).toBe(0);
    await q.read();
    expect(seen.resumed).toBe(1);
    await q.read();
    expect(seen.resumed).toBe(1); // not paused any more
  });

  test("cancel aborts the call, ends a pending read as done, and drops what comes after", async () => {
    const { q, seen } = queue();
    const pending = q.read();
    await q.cancel(new Error("client disconnected"));
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(seen.aborted).toEqual(["client disconnected"]);
    q.push(bytes("late"));
    q.fail(new Error("aborted")); // the abort coming back from undici: no error after a cancel
    expect((await q.read()).done).toBe(true);
    await q.cancel();
    expect(seen.aborted).toHaveLength(1);
  });

  test("an error of the call rejects the pending read and later ones, queued chunks dropped", async () => {
    const { q } = queue();
    const pending = q.read();
    q.fail(new Error("other side closed"));
    await expect(pending).rejects.toThrow("other side closed");
    const b = queue();
    b.q.push(bytes("x"));
    b.q.fail(new Error("reset"));
    await expect(b.q.read()).rejects.toThrow("reset");
  });

  test("one reader at a time", async () => {
    const { q } = queue();
    void q.read();
    await expect(q.read()).rejects.toThrow(TypeError);
  });

  test("a web stream over it when one is asked for: same bytes, cancel reaches the call", async () => {
    const { q, seen } = queue();
    q.push(bytes("data: 1\n\n"));
    q.end();
    expect(await new Response(streamOf(q)).text()).toBe("data: 1\n\n");
    const other = queue();
    await streamOf(other.q).cancel(new Error("gone"));
    expect(other.seen.aborted).toEqual(["gone"]);
    expect(seen.aborted).toEqual([]);
  });
});

describe("ChunkQueue.whole on Node's dispatcher queue (no handsOver; issue 19, thirteenth pass)", () => {
  test("an ended answer's queued chunks at once, joined, then done; the socket resumed only by reads", async () => {
    const { q, seen } = queue(4);
    q.push(bytes("ab"));
    expect(q.push(bytes("cd"))).toBe(false); // past readAhead: the socket pauses
    q.push(bytes("e"));
    q.end();
    expect(text(q.whole())).toBe("abcde");
    expect(await q.read()).toEqual({ done: true, value: undefined });
    expect(seen.resumed).toBe(0);
    const one = queue().q;
    one.push(bytes("x"));
    one.end();
    expect(text(one.whole())).toBe("x");
    const none = queue().q;
    none.end();
    expect(none.whole()?.byteLength).toBe(0);
  });

  test("nothing while the answer is still coming, failed, cancelled or being read; reads go on as before", async () => {
    const open = queue().q;
    open.push(bytes("a"));
    expect(open.whole()).toBeUndefined();
    expect(text((await open.read()).value)).toBe("a");
    const failed = queue().q;
    failed.push(bytes("a"));
    failed.fail(new Error("reset"));
    expect(failed.whole()).toBeUndefined();
    await expect(failed.read()).rejects.toThrow("reset");
    const cancelled = queue().q;
    cancelled.push(bytes("a"));
    await cancelled.cancel(new Error("gone"));
    expect(cancelled.whole()).toBeUndefined();
    const reading = queue().q;
    const pending = reading.read();
    expect(reading.whole()).toBeUndefined();
    reading.push(bytes("r"));
    expect(text((await pending).value)).toBe("r");
  });
});

describe("a streamed upstream Response offers its chunks", () => {
  const sse = () => new Headers({ "content-type": "text/event-stream" });

  test("once, under CHUNK_SOURCE, with no stream built; the body is used after", async () => {
    const { q } = queue();
    const res = streamedResponse(q, 200, sse()) as Response & { [CHUNK_SOURCE](): ChunkQueue | undefined };
    expect(res.bodyUsed).toBe(false);
    expect(res[CHUNK_SOURCE]()).toBe(q);
    expect(res[CHUNK_SOURCE]()).toBeUndefined();
    expect(res.bodyUsed).toBe(true);
  });

  test("not once its body was asked for: the body reads the same chunks", async () => {
    const { q } = queue();
    q.push(bytes("data: 2\n\n"));
    q.end();
    const res = streamedResponse(q, 200, sse()) as Response & { [CHUNK_SOURCE](): ChunkQueue | undefined };
    const body = res.body!;
    expect(res[CHUNK_SOURCE]()).toBeUndefined();
    expect(await new Response(body).text()).toBe("data: 2\n\n");
  });

  test("read whole through text() like any Response", async () => {
    const { q } = queue();
    q.push(bytes("data: 3\n\n"));
    q.end();
    expect(await streamedResponse(q, 200, sse()).text()).toBe("data: 3\n\n");
  });
});
