/**
 * The gateway's upstream fetch under Node: undici's dispatcher on one keep-alive Agent.
 *
 * Node 20's global fetch is undici too, but behind its WHATWG layers (request and
 * response objects, body mixins, a FinalizationRegistry per signal): measured in
 * bench/overhead, a bare proxy on global fetch costs ~3.9x the CPU per request of one on
 * `undici.request`, and `undici.request` itself wraps each answer in a Node Readable this
 * skips (node-dispatch.ts). This keeps the `FetchFn` seam (a web `Response`, so the proxy
 * code is the same on every runtime) but builds it directly: status, headers, and bytes or
 * a pull-based body that reads the socket only when the relay asks (backpressure reaches
 * the pod, as with fetch). Node only: the entry (node.ts) passes it to createGateway.
 */
import { Agent, type Dispatcher } from "undici";
import type { FetchFn } from "../deps.ts";
import { decodingFetch } from "../proxy/decode.ts";
import { ABORT_CONTROLLER, type LightAbortSignal, offerLightAborts } from "./node-abort.ts";
import { dispatchCall, tieToSignal, untieFromSignal } from "./node-dispatch.ts";
import { PAIRS } from "./node-headers.ts";

/** Largest answer with a content-length that is read whole before the Response is made. */
const MAX_BUFFERED = 1 << 20;

/** Request headers as undici takes them: flat [name, value, ...] (Headers joins repeated values already). */
function flatHeaders(init: RequestInit["headers"]): string[] {
  // LightHeaders (node-headers.ts: the proxy's copy of a Node client's headers) hands its pairs over.
  const pairs = (init as { [PAIRS]?: () => string[] } | undefined)?.[PAIRS];
  if (pairs) return pairs.call(init);
  const out: string[] = [];
  if (init === undefined) return out;
  (init instanceof Headers ? init : new Headers(init)).forEach((value, name) => {
    out.push(name, value);
  });
  return out;
}

/**
 * Where a pod client offers its light GET (read by src/datalayer/scraper.ts; the Bun wire
 * client offers one too: bun-wire.ts): a GET of `url` with `headers`, aborted through `signal`
 * as a fetch would be, resolving to the answer's status and whole body, no Headers and no
 * Response made (fourteenth pass: a background scrape reads nothing else). `encoding`: the
 * answer's Content-Encoding, its bytes as sent (`decodingWhenEncoded` offers one that decodes).
 */
export const LIGHT_GET = Symbol.for("inference-gateway.lightGet");

/** A light GET's answer. */
export interface LightAnswer {
  status: number;
  body: Uint8Array;
  encoding?: string | undefined;
}

/** The light GET's signature. */
export type LightGet = (
  url: string,
  headers: Headers,
  signal: AbortSignal | LightAbortSignal | undefined,
) => Promise<LightAnswer>;

/** A FetchFn on undici's dispatcher with its own keep-alive connection pool. */
export function undiciFetch(
  opts: { keepAliveTimeoutMs?: number } = {},
): FetchFn & { close(): Promise<void>; [LIGHT_GET]: LightGet } {
  const dispatcher = new Agent({ keepAliveTimeout: opts.keepAliveTimeoutMs ?? 30_000 });
  const fetchFn = (url: string, init: RequestInit): Promise<Response> =>
    dispatchCall(dispatcher, {
      url,
      method: init.method ?? "GET",
      headers: flatHeaders(init.headers),
      body: (init.body as Uint8Array | string | null | undefined) ?? null,
      signal: (init.signal as AbortSignal | LightAbortSignal | undefined) ?? null,
      // A whole answer of known, bounded size (every non-streamed vLLM answer) is read as
      // bytes; the proxy reads it whole anyway. Streams (SSE) stay pull-based.
      maxBuffered: MAX_BUFFERED,
    });
  /** The light GETs' request headers as undici takes them, for the one Headers a scraper passes. */
  let lightHeaders: { given: Headers; flat: string[] } | undefined;
  const lightGet: LightGet = (url, headers, signal) => {
    if (lightHeaders?.given !== headers) lightHeaders = { given: headers, flat: flatHeaders(headers) };
    const flat = lightHeaders.flat;
    return new Promise<LightAnswer>((resolve, reject) => {
      const slash = url.indexOf("/", url.indexOf("//") + 2);
      const origin = slash < 0 ? url : url.slice(0, slash);
      const path = slash < 0 ? "/" : url.slice(slash);
      const call = new LightCall(signal, resolve, reject);
      dispatcher.dispatch(
        { origin, path, method: "GET", headers: flat },
        call as unknown as Dispatcher.DispatchHandler,
      );
    });
  };
  // attempt's controllers for these calls are LightAbortControllers (node-abort.ts).
  return offerLightAborts(Object.assign(fetchFn, { close: () => dispatcher.close(), [LIGHT_GET]: lightGet }));
}

/** undici's handler for one light GET (its callback API, as node-dispatch.ts's Call): bytes only. */
class LightCall {
  #abort: ((reason?: Error) => void) | undefined;
  #resolve: ((answer: LightAnswer) => void) | undefined;
  #reject: ((err: Error) => void) | undefined;
  #status = 0;
  #encoding: string | undefined;
  #first: Buffer | undefined;
  #more: Buffer[] | undefined;
  #size = 0;
  readonly #signal: AbortSignal | LightAbortSignal | undefined;

  constructor(
    signal: AbortSignal | LightAbortSignal | undefined,
    resolve: (answer: LightAnswer) => void,
    reject: (err: Error) => void,
  ) {
    this.#signal = signal;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  onConnect(abort: (reason?: Error) => void): void {
    this.#abort = abort;
    tieToSignal(this.#signal, this, abort);
  }

  /** The call's signal aborted: abort it, if it is still running (undici rejects with the reason). */
  aborted(reason: unknown): void {
    this.#abort?.(reason instanceof Error ? reason : new Error("aborted"));
  }

  onHeaders(status: number, raw: Buffer[]): boolean {
    if (status < 200) return true; // 1xx: the answer is still to come
    this.#status = status;
    for (let i = 0; i < raw.length; i += 2) {
      // Only the encoding is read: "content-encoding" is 16 bytes long.
      if (raw[i]!.byteLength !== 16 || raw[i]!.toString("latin1").toLowerCase() !== "content-encoding")
        continue;
      const value = raw[i + 1]!.toString("latin1");
      this.#encoding = this.#encoding === undefined ? value : `${this.#encoding}, ${value}`;
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.#first === undefined) this.#first = chunk;
    else if (this.#more === undefined) this.#more = [this.#first, chunk];
    else this.#more.push(chunk);
    this.#size += chunk.byteLength;
    return true;
  }

  onComplete(): void {
    this.#done();
    const b = this.#more !== undefined ? Buffer.concat(this.#more, this.#size) : this.#first;
    this.#first = this.#more = undefined;
    const body = b === undefined ? new Uint8Array(0) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    const resolve = this.#resolve;
    this.#resolve = this.#reject = undefined;
    resolve?.({ status: this.#status, body, encoding: this.#encoding });
  }

  onError(err: Error): void {
    this.#done();
    this.#first = this.#more = undefined;
    const reject = this.#reject;
    this.#resolve = this.#reject = undefined;
    reject?.(err);
  }

  #done(): void {
    untieFromSignal(this.#signal, this);
    this.#abort = undefined;
  }
}

/**
 * `decodingFetch` (gzip/deflate bodies decoded when their bytes really are compressed),
 * consulted only for answers that declare a content-encoding: it reads `body`, which
 * would build a web stream for every answer (see node-upstream-response.ts), and an
 * answer without one passes through it untouched anyway.
 */
export function decodingWhenEncoded(base: FetchFn): FetchFn {
  // A plain `then`, no async frame per call; a call that throws at once still rejects.
  const decoding: FetchFn = (url, init) => {
    let call: Promise<Response>;
    try {
      call = base(url, init);
    } catch (err) {
      return Promise.reject(err);
    }
    return call.then((res) =>
      res.headers.has("content-encoding") ? decodingFetch(async () => res)(url, init) : res,
    );
  };
  // What `base` offers its callers (a light AbortController for its calls), this offers too.
  const offer = (base as { [ABORT_CONTROLLER]?: unknown })[ABORT_CONTROLLER];
  if (offer) Object.assign(decoding, { [ABORT_CONTROLLER]: offer });
  // And its light GET, decoding as this does (undici-fetch's own leaves the bytes as sent).
  const light = (base as { [LIGHT_GET]?: LightGet })[LIGHT_GET];
  if (light) {
    const decodingLight: LightGet = (url, headers, signal) =>
      light(url, headers, signal).then((a) => (a.encoding === undefined ? a : decodedLight(a)));
    Object.assign(decoding, { [LIGHT_GET]: decodingLight });
  }
  return decoding;
}

/** A light answer that declares an encoding, decoded as `decodingFetch` decodes a Response's body. */
async function decodedLight(a: LightAnswer): Promise<LightAnswer> {
  if (a.body.byteLength === 0) return { status: a.status, body: a.body };
  const res = new Response(a.body as Uint8Array<ArrayBuffer>, {
    status: a.status,
    headers: { "content-encoding": a.encoding! },
  });
  const bytes = await (await decodingFetch(async () => res)("", {})).arrayBuffer();
  return { status: a.status, body: new Uint8Array(bytes) };
}
