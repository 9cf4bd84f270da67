/**
 * Writes the app's web `Response` to Node's `ServerResponse`: status and headers with one
 * `writeHead` (a plain record), a body of bytes or text with one `end()` (one write syscall with the head), a
 * stream chunk by chunk with `write()`, waiting for 'drain' when it returns false
 * (backpressure reaches the relay, and through it the pod), the head going out with the first
 * chunk. A client that leaves cancels the stream (the relay then aborts the pod's request).
 *
 * What @hono/node-server does for a Response, less its per-request costs under Node 20: no
 * async function and header record per answer, no separate write for a stream's head (the
 * gateway's streams have their first chunk in hand when the answer is made). Its lightweight
 * Response (which it installs as the global one) keeps `[status, body, init]` under a private
 * symbol, found once here (`responseCacheKey`); a Response without one is read through its
 * public fields.
 */
import type { ServerResponse } from "node:http";
import type { DirectController, DirectSource } from "../proxy/relay.ts";
import { PAIRS } from "./node-headers.ts";
import { NODE_DIRECT } from "./node-relay.ts";

/** @hono/node-server's default for a body without a content-type. */
const DEFAULT_TYPE = "text/plain; charset=UTF-8";

type Cached = [status: number, body: unknown, init: unknown];

/** The symbol under which node-server's Response keeps `[status, body, init]`, if the installed one does. */
export function responseCacheKey(): symbol | undefined {
  const probe = new Response("probe") as unknown as Record<symbol, unknown>;
  return Object.getOwnPropertySymbols(probe).find((s) => {
    const v = probe[s];
    return s.description === "cache" && Array.isArray(v) && v.length === 3 && v[1] === "probe";
  });
}

/** What `writeHead` takes: a name's values, an array when it repeats. */
type HeaderRecord = Record<string, string | string[]>;

/**
 * Headers of any init shape as a plain record for `writeHead` (Node takes a record without
 * copying it; a flat list goes through removeHeader and appendHeader per name, measured
 * slower), repeated names (set-cookie) as arrays; content-type and -length noted.
 */
function headerRecord(init: unknown): { record: HeaderRecord; type: boolean; length: boolean } {
  // No prototype: a header named "constructor" or "__proto__" is just a header.
  const record: HeaderRecord = Object.create(null);
  let type = false;
  let length = false;
  const add = (value: string, name: string) => {
    const lower = name.toLowerCase();
    if (lower === "content-type") type = true;
    else if (lower === "content-length") length = true;
    const had = record[lower];
    if (had === undefined) record[lower] = value;
    else if (Array.isArray(had)) had.push(value);
    else record[lower] = [had, value];
  };
  const pairs = (init as { [PAIRS]?: () => string[] } | null)?.[PAIRS];
  if (pairs) {
    // LightHeaders (node-headers.ts): its pairs (lower-case names), in the order its forEach
    // gives them; no callback and no lower-casing per name.
    const flat = pairs.call(init);
    for (let i = 0; i < flat.length; i += 2) {
      const name = flat[i]!;
      const had = record[name];
      if (had === undefined) record[name] = flat[i + 1]!;
      else if (Array.isArray(had)) had.push(flat[i + 1]!);
      else record[name] = [had, flat[i + 1]!];
    }
    return {
      record,
      type: record["content-type"] !== undefined,
      length: record["content-length"] !== undefined,
    };
  }
  if (init instanceof Headers) init.forEach(add);
  else if (Array.isArray(init)) for (const [name, value] of init as [string, string][]) add(value, name);
  else if (init && typeof init === "object")
    for (const name in init) add(String((init as Record<string, unknown>)[name]), name);
  return { record, type, length };
}

/** Writes `res` to `outgoing` (see the module's comment). */
export function writeResponse(res: Response, outgoing: ServerResponse, cacheKey: symbol | undefined): void {
  const cached = cacheKey
    ? ((res as unknown as Record<symbol, Cached | undefined>)[cacheKey] ?? undefined)
    : undefined;
  let status: number;
  let body: unknown;
  let init: unknown;
  if (cached && !(cached[1] instanceof Blob)) {
    [status, body, init] = cached;
    // node-server's Response answers `headers` from the same array, as a Headers once asked.
  } else {
    status = res.status;
    body = res.body;
    init = res.headers;
  }
  const { record, type, length } = headerRecord(init);
  if (body === null || body === undefined) {
    outgoing.writeHead(status, record);
    outgoing.end();
    return;
  }
  if (!type) record["content-type"] = DEFAULT_TYPE;
  if (typeof body === "string" || body instanceof Uint8Array) {
    if (!length)
      record["content-length"] = String(typeof body === "string" ? Buffer.byteLength(body) : body.byteLength);
    outgoing.writeHead(status, record);
    outgoing.end(body);
    return;
  }
  outgoing.writeHead(status, record);
  const direct = (body as { [NODE_DIRECT]?: () => DirectSource | undefined })[NODE_DIRECT]?.();
  if (direct) drive(direct, outgoing);
  else pump((body as ReadableStream<Uint8Array>).getReader(), outgoing);
}

/**
 * Runs the relay's direct source (node-relay.ts) with `outgoing` as its destination: each
 * chunk is one `write()`, a promise only until 'drain' when the socket is full; the head
 * leaves with the first chunk, which the relay writes during this call when it has it.
 */
function drive(source: DirectSource, outgoing: ServerResponse): void {
  let wrote = false;
  let resume: (() => void) | undefined;
  let flush: NodeJS.Immediate | undefined;
  const wake = () => {
    const r = resume;
    resume = undefined;
    r?.();
  };
  const onClose = () => {
    if (flush) clearImmediate(flush);
    if (!outgoing.writableFinished) void source.cancel(new Error("client disconnected")).catch(() => {});
    // A write waiting for 'drain' goes on: the relay sees it ended and stops.
    wake();
  };
  // Once: a relay is cancelled once (a second cancel would abort the pod's request again).
  outgoing.once("close", onClose);
  const done = () => {
    if (flush) clearImmediate(flush);
    outgoing.off("close", onClose);
    outgoing.off("drain", wake);
  };
  const controller: DirectController = {
    write(bytes) {
      if (outgoing.destroyed) return 0;
      wrote = true;
      if (outgoing.write(bytes)) return bytes.byteLength;
      return new Promise<number>((ok) => {
        resume = () => ok(bytes.byteLength);
        outgoing.once("drain", wake);
      });
    },
    // Node writes to the socket at once: nothing waits for a flush.
    flush: () => 0,
    close(error) {
      done();
      if (outgoing.destroyed) return;
      // A body that breaks mid-way: the cut connection is the answer (its head is out, or stored).
      if (error) outgoing.destroy(error);
      else outgoing.end();
    },
  };
  source
    .pull(controller)
    .catch((err: unknown) => controller.close(err instanceof Error ? err : new Error(String(err))));
  // The relay writes a chunk attempt already read during the pull's first turn; a stream
  // with none at hand still sends its head at once (no timer per stream otherwise).
  if (!wrote && !outgoing.destroyed && !outgoing.writableEnded)
    flush = setImmediate(() => {
      if (!wrote && !outgoing.destroyed) outgoing.flushHeaders();
    });
}

/** Writes a stream's chunks as they come, 'drain' pacing the reads; the head leaves with the first one. */
function pump(reader: ReadableStreamDefaultReader<Uint8Array>, outgoing: ServerResponse): void {
  let wrote = false;
  // A stream whose first chunk is not at hand this turn still sends its head at once.
  const flush = setImmediate(() => {
    if (!wrote && !outgoing.destroyed) outgoing.flushHeaders();
  });
  const onClose = () => {
    clearImmediate(flush);
    if (!outgoing.writableFinished) void reader.cancel(new Error("client disconnected")).catch(() => {});
  };
  outgoing.on("close", onClose);
  const next = () => void reader.read().then(step, fail);
  const step = (r: Awaited<ReturnType<typeof reader.read>>) => {
    if (outgoing.destroyed) return;
    if (r.done) {
      clearImmediate(flush);
      outgoing.off("close", onClose);
      outgoing.end();
      return;
    }
    wrote = true;
    if (outgoing.write(r.value)) next();
    else outgoing.once("drain", next);
  };
  // A body that breaks mid-way: the cut connection is the answer (its head is out, or stored).
  const fail = (err: unknown) => {
    clearImmediate(flush);
    outgoing.off("close", onClose);
    if (!outgoing.destroyed) outgoing.destroy(err instanceof Error ? err : new Error(String(err)));
  };
  next();
}
