import { afterAll, describe, expect, test } from "bun:test";
import { type ChunkSource, type DirectController, type DirectSource, relay } from "../../src/proxy/relay.ts";
import { wireFetch } from "../../src/runtime/bun-wire.ts";
import { CHUNK_SOURCE } from "../../src/runtime/node-chunks.ts";
import type { Outcome } from "../../src/scope.ts";
import { pacedSsePod } from "../helpers/paced-sse-pod.ts";

// Issue 19, twelfth pass: the wire client's chunk queue hands each chunk to the relay's direct
// loop from the socket's data callback (ChunkQueue.wait). Against a real pod: the same bytes,
// one end, and a client that leaves cuts the pod's answer off.

const dec = new TextDecoder();
const frames = Array.from({ length: 12 }, (_, i) => `data: {"n":${i}}\n\n`);
/** A pod that writes each next frame when the client has written the last one (chunked). */
const pod = await pacedSsePod(frames);
const url = pod.url;
const wire = wireFetch();

afterAll(() => {
  wire.close();
  pod.close();
});

/** The pod's stream as the relay's direct shape writes it; `stopAfter` writes: the client leaves. */
async function relayed(stopAfter = Number.POSITIVE_INFINITY) {
  const controller = new AbortController();
  const res = await wire(url, { method: "POST", body: "{}", signal: controller.signal });
  const queue = (res as unknown as { [CHUNK_SOURCE]: () => ChunkSource })[CHUNK_SOURCE]();
  let reads = 0;
  let waits = 0;
  const source: ChunkSource = {
    read: () => {
      reads++;
      return queue.read();
    },
    wait: (waiter) => {
      const took = queue.wait!(waiter);
      if (took) waits++;
      return took;
    },
    cancel: (reason) => queue.cancel(reason),
  };
  const ends: Outcome[] = [];
  let src: DirectSource | undefined;
  relay(source, {
    sse: true,
    idleTimeoutMs: 10_000,
    onEnd: (o) => ends.push(o),
    abortUpstream: (why) => controller.abort(new Error(why)),
    direct: (s) => {
      src = s;
      return new ReadableStream();
    },
  });
  let text = "";
  let writes = 0;
  let cancelled: Promise<void> | undefined;
  const out: DirectController = {
    write: (b) => {
      text += dec.decode(b);
      if (++writes === stopAfter) cancelled = src!.cancel(new Error("client gone"));
      else pod.next(); // the client has it: the pod sends the next frame (or its end)
      return b.byteLength;
    },
    flush: () => 0,
    close: () => {},
  };
  await src!.pull(out);
  await cancelled;
  return { text, ends, reads, waits };
}

describe("the wire client's queue and the relay's direct loop, chunk by chunk", () => {
  test("a paced stream: every frame, in order, handed over without reads; one success", async () => {
    const r = await relayed();
    expect(r.text).toBe(frames.join(""));
    expect(r.ends).toEqual(["success"]);
    // Each frame after the first comes while the loop waits for it: handed over, never read.
    expect(r.waits).toBeGreaterThanOrEqual(frames.length - 1);
    expect(r.reads).toBeLessThanOrEqual(2); // at most what was queued before the loop started
  });

  test("a client that leaves mid-stream: one end (aborted), the pod's answer cut off", async () => {
    const before = pod.cut;
    const cut = pod.nextCut();
    const r = await relayed(3);
    expect(r.ends).toEqual(["aborted"]);
    // Three writes, then nothing: the pod was asked for no frame past the third.
    expect(r.text).toBe(frames.slice(0, 3).join(""));
    if (pod.cut === before) await cut;
    expect(pod.cut).toBe(before + 1);
  });
});
