/**
 * The Bun wire client's light GET (bun-wire.ts `LIGHT_GET`, fourteenth pass), what a
 * background scrape reads its answer through: the status and the whole body, whatever the
 * framing, decoded as the client's fetch decodes, no Headers parsed; aborted as a fetch is;
 * the connection kept alive between GETs; and the scraper uses it instead of fetch.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import type { Socket, TCPSocketListener } from "bun";
import { systemClock } from "../../src/clock.ts";
import { BUILTIN_ENGINES } from "../../src/datalayer/engines.ts";
import { createScraper } from "../../src/datalayer/scraper.ts";
import { LIGHT_GET, type LightGet, wireFetch } from "../../src/runtime/bun-wire.ts";
import { LightAbortController } from "../../src/runtime/node-abort.ts";

const PAGE =
  "# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting 2\nvllm:num_requests_running 3\nvllm:kv_cache_usage_perc 0.25\n";
const head = (status: string, lines: string[]) =>
  `HTTP/1.1 ${status}\r\n${lines.map((l) => `${l}\r\n`).join("")}\r\n`;
const chunk = (s: string) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;
const GZ = gzipSync(PAGE);
/** The raw answers, by path. */
const ANSWERS: Record<string, Uint8Array | string> = {
  "/plain": head("200 OK", ["server: uvicorn", `content-length: ${PAGE.length}`]) + PAGE,
  "/chunked": `${head("200 OK", ["Transfer-Encoding: chunked"])}${chunk(PAGE.slice(0, 9))}${chunk(PAGE.slice(9))}0\r\n\r\n`,
  "/close": head("200 OK", ["connection: close"]) + PAGE,
  "/gzip": Buffer.concat([
    Buffer.from(head("200 OK", ["Content-Encoding: gzip", `content-length: ${GZ.byteLength}`])),
    GZ,
  ]),
  "/missing": `${head("404 Not Found", ["content-length: 12"])}no such page`,
};
let server: TCPSocketListener<{ id: number }>;
let connections = 0;
const requests: string[] = [];
const closed: number[] = [];
let base = "";
/** Conditions a test waits on, looked at after each request and close the server sees. */
const waiting: { holds: () => boolean; resolve: () => void }[] = [];
/** Settles once `holds()` is true: checked now and at each server event (no timer, no polling). */
function when(holds: () => boolean): Promise<void> {
  if (holds()) return Promise.resolve();
  return new Promise((resolve) => waiting.push({ holds, resolve }));
}
function serverEvent(): void {
  for (const w of [...waiting])
    if (w.holds()) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve();
    }
}

beforeAll(() => {
  server = Bun.listen<{ id: number }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        s.data = { id: ++connections };
      },
      data(s: Socket<{ id: number }>, data) {
        const text = data.toString("latin1");
        requests.push(text);
        serverEvent();
        const path = text.slice(4, text.indexOf(" ", 4));
        const answer = ANSWERS[path];
        if (answer === undefined) return; // /hang
        s.write(answer);
        if (path === "/close") s.end();
      },
      close(s) {
        closed.push(s.data.id);
        serverEvent();
      },
    },
  });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(() => server.stop(true));

const accept = new Headers({ accept: "text/plain" });
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const lightOf = (f: unknown) => (f as { [LIGHT_GET]: LightGet })[LIGHT_GET];

test("a light GET reads the status and the whole body whatever the framing, on one kept-alive connection", async () => {
  const wire = wireFetch({ decode: true });
  const get = lightOf(wire);
  const before = connections;
  const plain = await get(`${base}/plain`, accept, undefined);
  expect(plain).toEqual({ status: 200, body: expect.any(Uint8Array) });
  expect(text(plain.body)).toBe(PAGE);
  expect(text((await get(`${base}/chunked`, accept, undefined)).body)).toBe(PAGE);
  const missing = await get(`${base}/missing`, accept, undefined);
  expect([missing.status, text(missing.body)]).toEqual([404, "no such page"]);
  expect(connections - before).toBe(1); // the body read to the end: the connection reused
  expect(requests.at(-1)).toBe(
    `GET /missing HTTP/1.1\r\naccept: text/plain\r\nhost: 127.0.0.1:${server.port}\r\n\r\n`,
  );
  // A body that runs until the server closes ends at the close.
  expect(text((await get(`${base}/close`, accept, undefined)).body)).toBe(PAGE);
  wire.close();
});

test("a light GET's gzip body is decoded when the client decodes, as sent when it does not", async () => {
  const decoding = wireFetch({ decode: true });
  expect(text((await lightOf(decoding)(`${base}/gzip`, accept, undefined)).body)).toBe(PAGE);
  // The same bytes as the client's fetch gives.
  expect(await (await decoding(`${base}/gzip`, { headers: accept })).text()).toBe(PAGE);
  const plain = wireFetch();
  const raw = await lightOf(plain)(`${base}/gzip`, accept, undefined);
  expect([raw.body[0], raw.body[1]]).toEqual([0x1f, 0x8b]);
  decoding.close();
  plain.close();
});

test("a light GET aborts as a fetch does: the signal's reason, the socket closed", async () => {
  const wire = wireFetch({ decode: true });
  const controller = new LightAbortController();
  const pending = lightOf(wire)(`${base}/hang`, accept, controller.signal);
  await when(() => requests.at(-1)?.startsWith("GET /hang") === true);
  const id = connections;
  const reason = new DOMException("late", "TimeoutError");
  controller.abort(reason);
  expect(await pending.catch((err: unknown) => err)).toBe(reason);
  await when(() => closed.includes(id));
  // Already aborted: rejected at once, nothing sent.
  const sent = requests.length;
  expect(await lightOf(wire)(`${base}/plain`, accept, controller.signal).catch((e: unknown) => e)).toBe(
    reason,
  );
  expect(requests.length).toBe(sent);
  wire.close();
});

test("what the wire client does not send itself goes through its fallback, read whole", async () => {
  const calls: string[] = [];
  const wire = wireFetch({
    fallback: async (url) => {
      calls.push(url);
      return new Response("fallback page", { status: 503 });
    },
  });
  const answer = await lightOf(wire)("https://pod.example/metrics", accept, undefined);
  expect([answer.status, text(answer.body), calls]).toEqual([
    503,
    "fallback page",
    ["https://pod.example/metrics"],
  ]);
  wire.close();
});

test("the scraper reads through the light GET when its client offers one: no fetch call, the same snapshot", async () => {
  const wire = wireFetch({ decode: true });
  let fetched = 0;
  const counting = Object.assign(
    (url: string, init: RequestInit) => {
      fetched++;
      return wire(url, init);
    },
    { [LIGHT_GET]: lightOf(wire) },
  );
  const snapshots: unknown[] = [];
  const errors: string[] = [];
  const scraper = createScraper({
    fetch: counting,
    clock: systemClock,
    timers: false,
    engines: BUILTIN_ENGINES,
    onSnapshot: (name, s) => snapshots.push([name, s.waitingQueueSize, s.runningRequests, s.kvCacheUsage]),
    onError: (name, err) => errors.push(`${name}: ${(err as Error).message}`),
  });
  scraper.setTargets([
    { name: "gz", url: `${base}/gzip`, engine: "vllm" },
    { name: "chunked", url: `${base}/chunked`, engine: "vllm" },
    { name: "missing", url: `${base}/missing`, engine: "vllm" },
  ]);
  await scraper.scrapeNow();
  scraper.stop();
  expect(fetched).toBe(0);
  expect(snapshots).toEqual([
    ["gz", 2, 3, 0.25],
    ["chunked", 2, 3, 0.25],
  ]);
  expect(errors).toEqual([`missing: GET ${base}/missing: HTTP 404`]);
  wire.close();
});
