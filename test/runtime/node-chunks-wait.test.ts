import { describe, expect, test } from "bun:test";
import { ChunkQueue } from "../../src/runtime/node-chunks.ts";

// Issue 19, twelfth pass: a reader may wait for the next chunk with callbacks (`wait`) instead
// of a read's promise, so a paced stream's chunk goes from the socket's callback to the relay
// with no promise, result object or microtask turn.

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array | undefined) => (b === undefined ? "<end>" : new TextDecoder().decode(b));

function queue(readAhead = 10) {
  const seen = { resumed: 0, aborted: [] as string[] };
  const q = new ChunkQueue(
    () => seen.resumed++,
    (reason) => seen.aborted.push(reason.message),
    readAhead,
    true,
  );
  return { q, seen };
}

/** A waiter that records what it got, in order. */
function waiter() {
  const got: string[] = [];
  return {
    got,
    arrived: (c: Uint8Array | undefined) => got.push(text(c)),
    broke: (err: Error) => got.push(`error ${err.message}`),
  };
}

describe("ChunkQueue.wait: the next chunk handed over by push itself", () => {
  test("push gives the chunk to the waiter before it returns, once; the next chunk is queued for a read", async () => {
    const { q } = queue();
    const w = waiter();
    expect(q.wait(w)).toBe(true);
    expect(q.push(bytes("a"))).toBe(true);
    expect(w.got).toEqual(["a"]);
    q.push(bytes("b")); // nobody waits: queued
    expect(w.got).toEqual(["a"]);
    expect(text((await q.read()).value)).toBe("b");
  });

  test("refused (false, nothing registered) when a chunk is queued, the end came, or a read or a waiter is pending", async () => {
    const w = waiter();
    const queued = queue().q;
    queued.push(bytes("a"));
    expect(queued.wait(w)).toBe(false);
    expect(text((await queued.read()).value)).toBe("a");

    const ended = queue().q;
    ended.end();
    expect(ended.wait(w)).toBe(false);

    const reading = queue().q;
    const pending = reading.read();
    expect(reading.wait(w)).toBe(false);
    reading.push(bytes("r"));
    expect(text((await pending).value)).toBe("r");

    const twice = queue().q;
    expect(twice.wait(w)).toBe(true);
    expect(twice.wait(w)).toBe(false);
    await expect(twice.read()).rejects.toThrow("already being read");
    expect(w.got).toEqual([]);
  });

  test("refused by a queue made without handsOver (Node's dispatcher): its reader reads as before", async () => {
    const q = new ChunkQueue(
      () => {},
      () => {},
      10,
    );
    const w = waiter();
    expect(q.wait(w)).toBe(false);
    const pending = q.read();
    q.push(bytes("a"));
    expect(w.got).toEqual([]);
    expect(text((await pending).value)).toBe("a");
  });

  test("refused after a failure or a cancel", async () => {
    const w = waiter();
    const failed = queue().q;
    failed.fail(new Error("reset"));
    expect(failed.wait(w)).toBe(false);
    const cancelled = queue().q;
    await cancelled.cancel(new Error("gone"));
    expect(cancelled.wait(w)).toBe(false);
    expect(w.got).toEqual([]);
  });

  test("the end reaches the waiter a microtask later, not inside the call that ends the answer", async () => {
    const { q } = queue();
    const w = waiter();
    q.wait(w);
    q.end();
    expect(w.got).toEqual([]);
    await null;
    expect(w.got).toEqual(["<end>"]);
  });

  test("a failure reaches the waiter's `broke` a microtask later", async () => {
    const { q } = queue();
    const w = waiter();
    q.wait(w);
    q.fail(new Error("other side closed"));
    expect(w.got).toEqual([]);
    await null;
    expect(w.got).toEqual(["error other side closed"]);
  });

  test("a cancel aborts the call and ends the waiter (a microtask later); later chunks are dropped", async () => {
    const { q, seen } = queue();
    const w = waiter();
    q.wait(w);
    await q.cancel(new Error("client disconnected"));
    expect(seen.aborted).toEqual(["client disconnected"]);
    await null;
    expect(w.got).toEqual(["<end>"]);
    q.push(bytes("late"));
    expect(w.got).toEqual(["<end>"]);
  });

  test("a waiter that does not wait again leaves later chunks to the read-ahead limit (the socket pauses)", async () => {
    const { q, seen } = queue(4);
    const w = waiter();
    q.wait(w);
    expect(q.push(bytes("1234"))).toBe(true); // handed over: nothing queued
    expect(q.push(bytes("56"))).toBe(true);
    expect(q.push(bytes("78"))).toBe(false); // 4 bytes queued: pause
    expect(text((await q.read()).value)).toBe("56");
    expect(seen.resumed).toBe(1);
    expect(w.got).toEqual(["1234"]);
  });
});
