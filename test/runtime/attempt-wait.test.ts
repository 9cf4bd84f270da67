import { afterAll, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { wireFetch } from "../../src/runtime/bun-wire.ts";
import { pacedSsePod } from "../helpers/paced-sse-pod.ts";
import { streamAttempt as attemptStream } from "../helpers/stream-attempt.ts";

// Issue 19, twelfth pass: the stream attempt hands the relay (its first chunk held) passes the
// pod client's hand-over on (`ChunkSource.wait`, Bun's wire client): refused while a chunk is
// held, taken once it was read, so a paced stream's chunks reach the relay with no read.

const frames = Array.from({ length: 4 }, (_, i) => `data: {"n":${i}}\n\n`);

/** A pod that writes each next frame when the test has read the last one (chunked). */
const pod = await pacedSsePod(frames);
const url = pod.url;

/** A pod that sends its whole stream at once, with a length (as a short answer comes). */
const STREAM = frames.join("") + "data: [DONE]\n\n";
const atOnce: Server = createServer((req, res) => {
  req.resume();
  res.writeHead(200, { "content-type": "text/event-stream", "content-length": Buffer.byteLength(STREAM) });
  res.end(STREAM);
});
await new Promise<void>((ok) => atOnce.listen(0, "127.0.0.1", ok));
const atOnceUrl = `http://127.0.0.1:${(atOnce.address() as AddressInfo).port}/v1/chat/completions`;
const wire = wireFetch();

afterAll(() => {
  wire.close();
  pod.close();
  atOnce.close();
});

const streamAttempt = (to: string, wholeStreams: boolean) => attemptStream(wire, to, wholeStreams);

const dec = new TextDecoder();

describe("a stream attempt's source", () => {
  test("passes the wire client's hand-over on once its held chunk is read; the frames arrive in order", async () => {
    const result = await streamAttempt(url, true);
    if (result.kind !== "response" || !result.body) throw new Error(`no stream: ${result.kind}`);
    const source = result.body;
    const noop = { arrived: () => {}, broke: () => {} };
    // The first chunk is held: no hand-over until it is read.
    expect(source.wait?.(noop)).toBe(false);
    const first = await source.read();
    let text = dec.decode(first.value);
    let waits = 0;
    for (;;) {
      pod.next(); // the next frame (or the end) comes while the source is asked for it
      const chunk = await new Promise<Uint8Array | undefined>((arrived, broke) => {
        if (source.wait?.({ arrived, broke })) waits++;
        else
          source.read().then(
            (r) => arrived(r.done ? undefined : r.value),
            (err) => broke(err),
          );
      });
      if (chunk === undefined) break;
      text += dec.decode(chunk);
    }
    expect(text).toBe(frames.join(""));
    // Every frame after the first arrived while the hand-over was set: none was read.
    expect(waits).toBeGreaterThanOrEqual(frames.length - 1);
  });
});

describe("a stream that came whole with its head", () => {
  test("is handed over whole (no first-chunk read) when the caller answers such streams as bytes", async () => {
    const result = await streamAttempt(atOnceUrl, true);
    if (result.kind !== "response") throw new Error(result.kind);
    expect(result.body).toBeUndefined();
    expect(dec.decode(result.whole)).toBe(STREAM);
  });

  test("goes the usual way (its first chunk held) for a caller that does not", async () => {
    const result = await streamAttempt(atOnceUrl, false);
    if (result.kind !== "response" || !result.body) throw new Error(result.kind);
    expect(result.whole).toBeUndefined();
    let text = "";
    for (let r = await result.body.read(); !r.done; r = await result.body.read()) text += dec.decode(r.value);
    expect(text).toBe(STREAM);
  });

  test("a paced stream is not whole: its chunks follow as they come", async () => {
    const result = await streamAttempt(url, true);
    if (result.kind !== "response" || !result.body) throw new Error(result.kind);
    expect(result.whole).toBeUndefined();
    await result.body.cancel();
  });
});
