/**
 * The gateway's upstream fetch under Bun: its own HTTP/1.1 client on `Bun.connect` sockets.
 *
 * Bun's `fetch` runs each exchange on its HTTP-client thread and hands the request and the
 * answer across threads (measured in bench/overhead: most of the bare Bun proxy's CPU per
 * request is on that thread, and the hop adds to the time to first byte). Here a call is one
 * socket write and a data callback per answer on the JS thread's own loop (bun-wire-pool.ts),
 * the answer parsed in JS (http1-parse.ts) into the same Response shapes the Node fetch makes
 * (bun-wire-call.ts). Bytes as sent (fetch's `decompress: false`; the entry's client decodes
 * as `decodingWhenEncoded` would: the `decode` option), no redirects followed (as the Node fetch), request headers as
 * given plus Host and Content-Length.
 *
 * Anything else goes to Bun's own `fetch`, unchanged: https and other schemes, a body that is
 * not bytes or a string, an `Upgrade` request, and init fields other than method, headers,
 * body, signal and decompress.
 */
import type { FetchFn } from "../deps.ts";
import { isPodHead, POD_HEAD } from "../proxy/pod-head.ts";
import { type LightAnswer, WireCall } from "./bun-wire-call.ts";
import { Pool, type PoolOptions } from "./bun-wire-pool.ts";
import { type LightAbortSignal, offerLightAborts } from "./node-abort.ts";
import { decodingWhenEncoded } from "./undici-fetch.ts";

/** A byte fetch would encode, or a fragment (a module constant: see http1-parse.ts's regular expressions). */
const NOT_PLAIN_PATH = /[^\x21-\x7e]|#/;

/** The init fields the wire client handles itself. */
const HANDLED = new Set(["method", "headers", "body", "signal", "decompress"]);
/** Request headers the client writes itself (framing), dropped from the given ones. */
const OWN = new Set(["content-length", "transfer-encoding"]);
const NORMALISED = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"]);
/** Light GET heads kept (one per scraped URL); past it the cache starts again. */
const MAX_LIGHT_HEADS = 1024;
/** Bodies larger than this are written after the head instead of copied into one buffer with it. */
const SEPARATE_BODY = 8 * 1024;

type Body = Uint8Array | string | null | undefined;
/** Node's and Bun's Buffer method (not in @types/node). */
type Latin1Writer = Buffer & { latin1Write(text: string, offset: number, length: number): number };

/** The options of `wireFetch`. */
export interface WireOptions {
  /** Idle sockets are closed after this long (default 4,000 ms: below uvicorn's, so vLLM's, 5 s). */
  idleMs?: number;
  /** Sockets open at once per origin (default 1,024); calls past it wait for one. */
  maxSockets?: number;
  /** Where calls it does not handle go (default: Bun's fetch). */
  fallback?: FetchFn;
  /**
   * Answers that declare a content encoding decoded when their bytes really are gzip or zlib,
   * as `decodingWhenEncoded` does (the fallback's answers too), decided by the answer's parser:
   * no `then` and no `Headers.has` for every answer (thirteenth pass). Default false.
   */
  decode?: boolean;
}

/**
 * Where the wire client offers its light GET (read by src/datalayer/scraper.ts): a GET of
 * `url` with `headers`, aborted through `signal` as a fetch would be, that resolves to the
 * answer's status and whole body (decoded as this client's fetch decodes) with no `Headers`
 * and no `Response` made. A background scrape reads nothing else (fourteenth pass).
 */
export const LIGHT_GET = Symbol.for("inference-gateway.lightGet");

/** The light GET's signature. */
export type LightGet = (
  url: string,
  headers: Headers,
  signal: AbortSignal | LightAbortSignal | undefined,
) => Promise<LightAnswer>;

export type { LightAnswer };

/** A FetchFn on the wire client, with `close()` (idle sockets) and its pools (tests). */
export type WireFetch = FetchFn & { close(): void; pools: Map<string, Pool>; [LIGHT_GET]: LightGet };

/** Builds the wire client's FetchFn (its own pools: one per origin). */
export function wireFetch(opts: WireOptions = {}): WireFetch {
  const poolOpts: PoolOptions = {
    idleMs: opts.idleMs ?? 4000,
    maxSockets: opts.maxSockets ?? 1024,
    now: () => performance.now(),
  };
  const given: FetchFn = opts.fallback ?? ((url, init) => fetch(url, init));
  const fallback = opts.decode === true ? decodingWhenEncoded(given) : given;
  const decode = opts.decode === true;
  const pools = new Map<string, Pool>();

  /** The origin's pool, made when it has none. */
  const poolOf = (request: Pick<Request, "origin" | "pool" | "address">): Pool => {
    let pool = request.pool;
    if (!pool) {
      const { hostname, port } = request.address!;
      // Forgotten once its last socket closes: pods come and go, origins would pile up.
      pool = new Pool(request.origin, hostname, port, poolOpts, (p) => {
        if (pools.get(p.origin) === p) pools.delete(p.origin);
      });
      pools.set(request.origin, pool);
    }
    return pool;
  };

  const wire = (url: string, init: RequestInit = {}): Promise<Response> => {
    const request = handled(url, init, pools);
    if (!request) {
      // Bun's fetch gets a Headers, as from any other caller.
      if (isPodHead(init.headers)) return fallback(url, { ...init, headers: init.headers.toHeaders() });
      return fallback(url, init);
    }
    const signal = (init.signal ?? undefined) as AbortSignal | LightAbortSignal | undefined;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const pool = poolOf(request);
    // The promise's resolving functions taken by one shared executor: no closure and scope a call.
    const answer = new Promise<Response>(grab);
    const resolve = grabbed.resolve!;
    const reject = grabbed.reject!;
    grabbed.resolve = grabbed.reject = undefined;
    try {
      const call = new WireCall(request.bytes, request.method === "HEAD", signal, resolve, reject);
      if (request.body) call.largeBody = request.body;
      if (decode) call.decode = true;
      pool.dispatch(call);
    } catch (err) {
      reject(err as Error); // as a throw in an executor would
    }
    return answer;
  };
  /** The light GETs' requests as bytes, by URL (a scraper asks for a few URLs with one Headers). */
  const lightHeads = new Map<string, { headers: Headers; origin: string; bytes: Uint8Array }>();
  const lightGet: LightGet = (url, headers, signal) => {
    let head = lightHeads.get(url);
    if (head === undefined || head.headers !== headers) {
      const init = { headers, signal: signal as AbortSignal | undefined };
      const request = handled(url, init, pools);
      // What the wire client does not send itself: through fetch, the body read to the end.
      if (!request) return wire(url, init).then(lightAnswer);
      if (lightHeads.size >= MAX_LIGHT_HEADS) lightHeads.clear(); // pods come and go
      head = { headers, origin: request.origin, bytes: request.bytes };
      lightHeads.set(url, head);
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    const pool =
      pools.get(head.origin) ??
      poolOf({ origin: head.origin, pool: undefined, address: hostAndPort(head.origin) });
    const bytes = head.bytes;
    return new Promise<LightAnswer>((resolve, reject) => {
      const call = new WireCall(bytes, false, signal, resolve as never, reject);
      call.light = true;
      if (decode) call.decode = true;
      pool.dispatch(call);
    });
  };
  const close = () => {
    for (const pool of pools.values()) pool.close();
  };
  // attempt's controllers for these calls are LightAbortControllers (node-abort.ts); forward.ts
  // hands it the pod's headers as a PodHead (src/proxy/pod-head.ts), its head lines written already.
  return offerLightAborts(Object.assign(wire, { close, pools, [POD_HEAD]: true, [LIGHT_GET]: lightGet }));
}

/** A fetched answer as a light one: its status and its whole body. */
async function lightAnswer(res: Response): Promise<LightAnswer> {
  return { status: res.status, body: new Uint8Array(await res.arrayBuffer()) };
}

interface Request {
  origin: string;
  /** The origin's pool, when it has one (its host and port were read when it was made). */
  pool: Pool | undefined;
  /** The origin's host and port, read for an origin without a pool. */
  address: { hostname: string; port: number } | undefined;
  method: string;
  /** The head, and the body when small (one write). */
  bytes: Uint8Array;
  /** A large body, written after the head. */
  body?: Uint8Array;
}

/** Where `grab`, the executor every call's promise shares, leaves its resolving functions. */
const grabbed: {
  resolve: ((res: Response | Promise<Response>) => void) | undefined;
  reject: ((err: Error) => void) | undefined;
} = { resolve: undefined, reject: undefined };

function grab(resolve: (res: Response | Promise<Response>) => void, reject: (err: Error) => void): void {
  grabbed.resolve = resolve;
  grabbed.reject = reject;
}

/** The last request path `handled` found plain (no byte fetch would encode, no fragment). */
let plainPath = "/";

/** The request as bytes on the wire, or undefined when it is Bun's fetch's to make. */
function handled(url: string, init: RequestInit, pools: Map<string, Pool>): Request | undefined {
  if (!url.startsWith("http://")) return undefined;
  for (const key in init) if (!HANDLED.has(key)) return undefined;
  const body = init.body as Body | ArrayBuffer;
  let payload: Uint8Array | undefined;
  if (body === null || body === undefined) payload = undefined;
  else if (typeof body === "string") payload = Buffer.from(body);
  else if (body instanceof Uint8Array) payload = body;
  else if (body instanceof ArrayBuffer) payload = new Uint8Array(body);
  else return undefined;
  const slash = url.indexOf("/", 7);
  const origin = slash < 0 ? url.slice(7) : url.slice(7, slash);
  const path = slash < 0 ? "/" : url.slice(slash);
  // An origin with a pool was read when the pool was made: not parsed again a call.
  const pool = pools.get(origin);
  const address = pool === undefined ? hostAndPort(origin) : undefined;
  if (pool === undefined && !address) return undefined;
  // A path fetch would have to encode (non-ASCII, spaces) or trim (a fragment) is fetch's to send.
  // The last path that passed is not tested again (a gateway calls a few paths over and over).
  if (path !== plainPath) {
    if (NOT_PLAIN_PATH.test(path)) return undefined;
    plainPath = path;
  }
  let method = init.method ?? "GET";
  // A method written as sent already (attempt's POST) is not upper-cased again.
  if (!NORMALISED.has(method)) {
    const upper = method.toUpperCase();
    if (NORMALISED.has(upper)) method = upper;
  }
  let head = `${method} ${path} HTTP/1.1\r\n`;
  let host = false;
  const given = init.headers;
  if (isPodHead(given)) {
    // Its lines hold no hop-by-hop name (so no host, upgrade or framing header): as they are.
    head += given.lines;
  } else {
    const headers = given instanceof Headers ? given : new Headers(given);
    let upgrade = false;
    headers.forEach((value, name) => {
      if (OWN.has(name)) return;
      if (name === "host") host = true;
      else if (name === "upgrade") upgrade = true;
      head += `${name}: ${value}\r\n`;
    });
    if (upgrade) return undefined;
  }
  if (!host) head += `host: ${origin}\r\n`;
  const length = payload?.byteLength ?? 0;
  // As fetch: a length for every body, and 0 for a method that usually has one.
  if (payload || method === "POST" || method === "PUT" || method === "PATCH")
    head += `content-length: ${length}\r\n`;
  head += "\r\n";
  const headLength = head.length;
  if (payload && length > SEPARATE_BODY) {
    // A large body goes out as it is, after the head: no copy of it (measured: copying 30 KiB
    // into a fresh buffer per call cost more than the second write saves).
    const bytes = Buffer.from(head, "latin1");
    return { origin, pool, address, method, bytes, body: payload };
  }
  const bytes = Buffer.allocUnsafe(headLength + length);
  // Buffer's own latin1 writer (what `write(head, 0, "latin1")` ends in, without its argument checks).
  (bytes as Latin1Writer).latin1Write(head, 0, headLength);
  if (payload) bytes.set(payload, headLength);
  return { origin, pool, address, method, bytes };
}

/** `host:port`, `host` or `[v6]:port` → hostname and port (80 when absent); undefined if malformed. */
function hostAndPort(origin: string): { hostname: string; port: number } | undefined {
  if (origin === "" || origin.includes("@")) return undefined;
  const v6 = origin.startsWith("[");
  const close = v6 ? origin.indexOf("]") : -1;
  if (v6 && close < 0) return undefined;
  const colon = origin.indexOf(":", v6 ? close : 0);
  const hostname = v6 ? origin.slice(1, close) : colon < 0 ? origin : origin.slice(0, colon);
  const port = colon < 0 ? 80 : Number(origin.slice(colon + 1));
  if (!Number.isInteger(port) || port <= 0 || port > 65535 || hostname === "") return undefined;
  return { hostname, port };
}

/**
 * The Bun entry's upstream fetch: the wire client, gzip/deflate bodies decoded when their
 * bytes really are compressed (as the default fetch's decodingFetch, only for answers that
 * declare an encoding). `GATEWAY_UPSTREAM_CLIENT=fetch` in `env` keeps Bun's own fetch
 * instead (undefined: main() then uses its default).
 */
export function bunUpstreamFetch(env: Record<string, string | undefined> = {}): FetchFn | undefined {
  if (env["GATEWAY_UPSTREAM_CLIENT"] === "fetch") return undefined;
  // The wire client decodes itself (`decode`), as decodingWhenEncoded did around it.
  return wireFetch({ decode: true });
}
