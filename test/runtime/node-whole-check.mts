/**
 * Run under Node by node-whole.test.ts: Node's pod client (undiciFetch: undici's dispatcher
 * feeding a ChunkQueue) hands a stream the pod sent at once over whole to an attempt that
 * answers such streams as bytes (`wholeStreams`), and a paced one the usual way. undici runs
 * the head, the data and the end through its parser in one socket callback, before the call's
 * promise settles, so the queue has ended by the time attempt asks. Prints one JSON line.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { undiciFetch } from "../../src/runtime/undici-fetch.ts";
import { pacedSsePod } from "../helpers/paced-sse-pod.ts";
import { streamAttempt as attemptStream } from "../helpers/stream-attempt.ts";

const frames = Array.from({ length: 20 }, (_, i) => `data: {"n":${i}}\n\n`);
const STREAM = `${frames.join("")}data: [DONE]\n\n`;
/** Sends the whole stream in one write, with a length (as a short answer comes). */
const atOnce: Server = createServer((req, res) => {
  req.resume();
  res.writeHead(200, { "content-type": "text/event-stream", "content-length": Buffer.byteLength(STREAM) });
  res.end(STREAM);
});
/** Sends the whole stream in one write, chunked (no length: how vLLM frames a stream). */
const atOnceChunked: Server = createServer((req, res) => {
  req.resume();
  res.writeHead(200, { "content-type": "text/event-stream" });
  res.end(STREAM);
});
const listen = async (s: Server) => {
  await new Promise<void>((ok) => s.listen(0, "127.0.0.1", ok));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}/v1/chat/completions`;
};
const lengthUrl = await listen(atOnce);
const chunkedUrl = await listen(atOnceChunked);
const paced = await pacedSsePod(frames.slice(0, 3));
const fetch = undiciFetch();
const dec = new TextDecoder();

const streamAttempt = (url: string, wholeStreams: boolean) => attemptStream(fetch, url, wholeStreams);

/** What one attempt gave: the whole body, or the stream read to its end (`read`: after each chunk). */
async function seen(url: string, wholeStreams: boolean, read = () => {}) {
  const result = await streamAttempt(url, wholeStreams);
  if (result.kind !== "response") return { kind: result.kind };
  if (result.whole !== undefined) return { whole: dec.decode(result.whole) === STREAM, body: result.body !== undefined };
  let text = "";
  const body = result.body!;
  for (let r = await body.read(); !r.done; r = await body.read()) {
    text += dec.decode(r.value);
    read();
  }
  return { whole: false, read: text };
}

const out = {
  // Many times over: every one whole, not only when the timing allows.
  length: await Promise.all(Array.from({ length: 8 }, () => seen(lengthUrl, true))),
  chunked: await Promise.all(Array.from({ length: 8 }, () => seen(chunkedUrl, true))),
  notAsked: await seen(lengthUrl, false),
  // The paced pod sends each next frame once the last was read: never whole.
  paced: await seen(paced.url, true, () => paced.next()),
};
await fetch.close();
atOnce.close();
atOnceChunked.close();
paced.close();
console.log(JSON.stringify(out));
