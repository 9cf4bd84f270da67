/**
 * Run under Node by undici-fetch.test.ts (Bun replaces the `undici` module with its own):
 * exercises the Node entry's upstream fetch against a loopback node:http server and
 * prints what it saw as one JSON line.
 */
import { getEventListeners } from "node:events";
import { createServer } from "node:http";
import { LightAbortController } from "../../src/runtime/node-abort.ts";
import { decodingWhenEncoded, undiciFetch } from "../../src/runtime/undici-fetch.ts";

let aborted = false;
let streamClosed: () => void = () => {};
const closed = new Promise<void>((r) => {
  streamClosed = r;
});
const server = createServer((req, res) => {
  if (req.url === "/echo") {
    const parts: Buffer[] = [];
    req.on("data", (d: Buffer) => parts.push(d));
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      res.setHeader("set-cookie", ["a=1", "b=2"]);
      res.end(JSON.stringify({ body: Buffer.concat(parts).toString(), ct: req.headers["content-type"], x: req.headers["x-custom"] }));
    });
  } else if (req.url === "/chunked") {
    res.setHeader("content-type", "application/json");
    res.write('{"a":');
    res.end("1}");
  } else if (req.url === "/events") {
    // A finite stream, written in bursts (several events per socket read and one per read).
    res.setHeader("content-type", "text/event-stream");
    for (let i = 0; i < 50; i++) res.write(`data: ${i}\n\n`);
    let i = 50;
    const timer = setInterval(() => {
      res.write(`data: ${i++}\n\n`);
      if (i === 60) {
        clearInterval(timer);
        res.end("data: [DONE]\n\n");
      }
    }, 1);
  } else if (req.url === "/broken") {
    res.setHeader("content-type", "text/event-stream");
    res.write("data: 0\n\n");
    setTimeout(() => res.destroy(), 5);
  } else if (req.url === "/silent") {
    // Never answers: only an abort ends the call.
  } else if (req.url === "/empty") {
    res.statusCode = 204;
    res.end();
  } else if (req.url === "/stream") {
    res.setHeader("content-type", "text/event-stream");
    let i = 0;
    const timer = setInterval(() => {
      res.write(`data: ${i++}\n\n`);
    }, 5);
    res.on("close", () => {
      clearInterval(timer);
      aborted = !res.writableEnded;
      streamClosed();
    });
  }
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
const fetchFn = undiciFetch();
const out: Record<string, unknown> = {};

const echo = await fetchFn(`${base}/echo`, {
  method: "POST",
  headers: new Headers({ "content-type": "application/json", "x-custom": "kept" }),
  body: new TextEncoder().encode('{"a":1}'),
});
out["echo"] = { status: echo.status, json: await echo.json(), cookies: echo.headers.getSetCookie() };
const chunked = await fetchFn(`${base}/chunked`, { method: "GET" });
out["chunked"] = { status: chunked.status, json: await chunked.json() };
const empty = await fetchFn(`${base}/empty`, { method: "GET" });
out["empty"] = { status: empty.status, body: empty.body };

const controller = new AbortController();
const stream = await fetchFn(`${base}/stream`, { method: "GET", signal: controller.signal });
const reader = stream.body!.getReader();
const first = await reader.read();
out["stream"] = { status: stream.status, type: stream.headers.get("content-type"), first: new TextDecoder().decode(first.value) };
await reader.cancel();
await closed;
out["cancelReachedServer"] = aborted;

/** The whole body of a streamed answer, or the error that ended it. */
async function drain(res: Response): Promise<string> {
  const reader = res.body!.getReader();
  let text = "";
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) return text;
      text += new TextDecoder().decode(r.value);
    }
  } catch (err) {
    return `${text}<error: ${(err as Error).name}>`;
  }
}
const events = await drain(await fetchFn(`${base}/events`, { method: "GET" }));
const expected = `${Array.from({ length: 60 }, (_, i) => `data: ${i}\n\n`).join("")}data: [DONE]\n\n`;
out["eventsWhole"] = events === expected;
out["broken"] = await drain(await fetchFn(`${base}/broken`, { method: "GET" }));
const abortMid = new AbortController();
const midway = await fetchFn(`${base}/stream`, { method: "GET", signal: abortMid.signal });
const midReader = midway.body!.getReader();
await midReader.read();
abortMid.abort();
out["abortedMidStream"] = await midReader.read().then(
  () => "no error",
  (err: Error) => err.name,
);

const beforeAnswer = new AbortController();
const pending = fetchFn(`${base}/silent`, { method: "POST", body: "{}", signal: beforeAnswer.signal });
setTimeout(() => beforeAnswer.abort(new Error("gave up waiting")), 20);
out["abortedBeforeAnswer"] = await pending.then(
  () => "answered",
  (err: Error) => err.message,
);

// The chunks the gateway's attempt takes (no web stream): the same bytes; an abort fails the read.
type Chunks = { read(): Promise<ReadableStreamReadResult<Uint8Array>> };
const chunksOf = (res: Response) =>
  (res as unknown as Record<symbol, () => Chunks>)[Symbol.for("inference-gateway.chunkSource")]!();
const viaChunks = chunksOf(await fetchFn(`${base}/events`, { method: "GET" }));
let chunkText = "";
for (let r = await viaChunks.read(); !r.done; r = await viaChunks.read()) chunkText += new TextDecoder().decode(r.value);
out["chunksWhole"] = chunkText === expected;
const abortChunks = new AbortController();
const chunkedMid = chunksOf(await fetchFn(`${base}/stream`, { method: "GET", signal: abortChunks.signal }));
await chunkedMid.read();
abortChunks.abort(new Error("client left"));
out["chunksAborted"] = await chunkedMid.read().then(
  () => "no error",
  (err: Error) => err.message,
);
// One signal over many calls keeps one abort listener (not one per call, nor one left per call).
const shared = new AbortController();
for (let i = 0; i < 20; i++) await (await fetchFn(`${base}/echo`, { method: "POST", body: "{}", signal: shared.signal })).text();
out["sharedSignalListeners"] = getEventListeners(shared.signal, "abort").length;

// The light controller the fetch offers attempt (node-abort.ts): the same aborts, no listener left.
const offered = (fetchFn as unknown as Record<symbol, () => AbortController>)[
  Symbol.for("inference-gateway.abortController")
];
const viaDecoding = decodingWhenEncoded(fetchFn) as unknown as Record<symbol, unknown>;
out["offered"] = {
  light: offered?.() instanceof LightAbortController,
  throughDecoding: viaDecoding[Symbol.for("inference-gateway.abortController")] === offered,
};
const lightBefore = offered!();
// Settled now (the timer may fire while the calls below run: no unhandled rejection).
const lightPending = fetchFn(`${base}/silent`, { method: "POST", body: "{}", signal: lightBefore.signal }).then(
  () => "answered",
  (err: Error) => err.message,
);
setTimeout(() => lightBefore.abort(new Error("gave up waiting")), 20);
const lightMid = offered!();
const lightChunks = chunksOf(await fetchFn(`${base}/stream`, { method: "GET", signal: lightMid.signal }));
await lightChunks.read();
lightMid.abort(new Error("client left"));
const lightDone = offered!();
await (await fetchFn(`${base}/echo`, { method: "POST", body: "{}", signal: lightDone.signal })).text();
out["light"] = {
  beforeAnswer: await lightPending,
  midStream: await lightChunks.read().then(
    () => "no error",
    (err: Error) => err.message,
  ),
  // A finished call is no longer the signal's: a late abort reaches nothing.
  callLeft: (lightDone.signal as unknown as { call: unknown }).call === undefined,
};

try {
  await fetchFn("http://127.0.0.1:1/", { method: "GET" });
  out["refused"] = "no error";
} catch (err) {
  out["refused"] = (err as Error).message;
}
console.log(JSON.stringify(out));
await fetchFn.close();
server.closeAllConnections();
server.close();
