/**
 * Run under Node by undici-light-get.test.ts (Bun replaces the `undici` module with its own):
 * the Node entry's pod client's light GET (undici-fetch.ts `LIGHT_GET`, what a background
 * scrape uses) against a loopback node:http server, and the scraper on it; one JSON line out.
 */
import { createServer } from "node:http";
import { gzipSync } from "node:zlib";
import { systemClock } from "../../src/clock.ts";
import { BUILTIN_ENGINES } from "../../src/datalayer/engines.ts";
import { createScraper } from "../../src/datalayer/scraper.ts";
import { LightAbortController } from "../../src/runtime/node-abort.ts";
import { decodingWhenEncoded, LIGHT_GET, type LightGet, undiciFetch } from "../../src/runtime/undici-fetch.ts";

const PAGE = "# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting 2\nvllm:num_requests_running 3\nvllm:kv_cache_usage_perc 0.25\n";
const seen: { url: string; accept: string | undefined }[] = [];
let hungClosed = false;
/** Settled when the server has the hanging request, and when its connection closes. */
const hang = { arrived: resolvers(), closed: resolvers() };
/** The same for a GET aborted through the platform's AbortController (the shared listener). */
const hang2 = { arrived: resolvers(), closed: resolvers() };
let hung2Closed = false;
/** A promise and its resolve (Node 20 has no `Promise.withResolvers`). */
function resolvers(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
const sockets = new Set<unknown>();
const server = createServer((req, res) => {
  seen.push({ url: req.url!, accept: req.headers.accept });
  if (req.url === "/plain") res.end(PAGE);
  else if (req.url === "/chunked") {
    res.write(PAGE.slice(0, 10));
    res.end(PAGE.slice(10));
  } else if (req.url === "/gzip") {
    res.setHeader("content-encoding", "gzip");
    res.end(gzipSync(PAGE));
  } else if (req.url === "/missing") {
    res.statusCode = 404;
    res.end("no such page");
  } else if (req.url === "/hang2") {
    hang2.arrived.resolve();
    req.on("close", () => {
      hung2Closed = true;
      hang2.closed.resolve();
    });
  } else if (req.url === "/hang") {
    hang.arrived.resolve();
    req.on("close", () => {
      hungClosed = true;
      hang.closed.resolve();
    });
  }
});
server.on("connection", (s) => sockets.add(s));
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const { port } = server.address() as { port: number };
const base = `http://127.0.0.1:${port}`;
const raw = undiciFetch();
const decoding = decodingWhenEncoded(raw);
const headers = new Headers({ accept: "text/plain" });
const text = (b: Uint8Array) => Buffer.from(b).toString();
const get = (f: unknown, path: string, signal?: LightAbortController["signal"] | AbortSignal) =>
  (f as { [LIGHT_GET]: LightGet })[LIGHT_GET](`${base}${path}`, headers, signal);

const out: Record<string, unknown> = {};
const plain = await get(decoding, "/plain");
out.plain = { status: plain.status, body: text(plain.body), encoding: plain.encoding ?? null };
const chunked = await get(decoding, "/chunked");
out.chunked = text(chunked.body);
const gz = await get(decoding, "/gzip");
out.gzip = { body: text(gz.body), encoding: gz.encoding ?? null };
const rawGz = await get(raw, "/gzip");
out.rawGzip = { gzipped: rawGz.body[0] === 0x1f && rawGz.body[1] === 0x8b, encoding: rawGz.encoding ?? null };
const missing = await get(decoding, "/missing");
out.missing = { status: missing.status, body: text(missing.body) };
const controller = new LightAbortController();
const hung = get(decoding, "/hang", controller.signal).then(
  () => "resolved",
  (err: Error) => err.name,
);
// Aborted once the pod has the request, and the socket's close awaited (no time: a loaded
// machine cannot make it flaky). A socket left open hangs this script, and the test's
// spawnSync timeout then fails it.
await hang.arrived.promise;
controller.abort(new DOMException("late", "TimeoutError"));
out.hung = await hung;
await hang.closed.promise;
out.hungClosed = hungClosed;
const platform = new AbortController();
const hung2 = get(decoding, "/hang2", platform.signal).then(
  () => "resolved",
  (err: Error) => err.name,
);
await hang2.arrived.promise;
platform.abort(new DOMException("late", "TimeoutError"));
out.hung2 = await hung2;
await hang2.closed.promise;
out.hung2Closed = hung2Closed;
out.accept = seen[0]!.accept;
// The scraper on the Node entry's client: its snapshot from the light GET, no fetch called.
let fetched = 0;
const counting = Object.assign((url: string, init: RequestInit) => {
  fetched++;
  return decoding(url, init);
}, { [LIGHT_GET]: (decoding as unknown as Record<symbol, unknown>)[LIGHT_GET] });
const snapshots: unknown[] = [];
const scraper = createScraper({
  fetch: counting,
  clock: systemClock,
  timers: false,
  engines: BUILTIN_ENGINES,
  onSnapshot: (_name, s) => snapshots.push({ waiting: s.waitingQueueSize, running: s.runningRequests, kvUsage: s.kvCacheUsage }),
});
scraper.setTargets([{ name: "a", url: `${base}/gzip`, engine: "vllm" }]);
await scraper.scrapeNow();
scraper.stop();
out.scrape = { snapshots, fetched };
console.log(JSON.stringify(out));
for (const s of sockets) (s as { destroy(): void }).destroy();
server.close();
await raw.close();
