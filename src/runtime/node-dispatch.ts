/**
 * One upstream call on undici's dispatcher, answered as a web Response, under Node.
 *
 * `undici.request` wraps every answer in a Node Readable (its body), an AsyncResource and
 * an abort listener of its own; the gateway then read that Readable whole or turned it into
 * a web stream. Here the dispatcher's handler callbacks feed the answer directly: an answer
 * read whole (a content-length up to `maxBuffered`, not an event stream) is collected as
 * chunks and handed over as bytes (node-upstream-response.ts); a streamed one is handed
 * over as a queue of its chunks (node-chunks.ts: no web stream unless `body` is asked for)
 * whose reads resume the socket and which pauses it once 64 KiB wait unread (backpressure
 * reaches the pod, as with undici.request's own body).
 */
import type { Dispatcher } from "undici";
import { LightAbortSignal } from "./node-abort.ts";
import { ChunkQueue } from "./node-chunks.ts";
import { LightHeaders } from "./node-headers.ts";
import { bufferedResponse, streamedResponse } from "./node-upstream-response.ts";

/** Bytes of a streamed answer read from the socket before the reader asks for them. */
const READ_AHEAD = 64 * 1024;

/** Statuses whose responses have no body (a web Response refuses one). */
const NO_BODY = new Set([101, 204, 205, 304]);

interface CallOptions {
  url: string;
  method: string;
  /** Flat [name, value, ...]. */
  headers: string[];
  body: Uint8Array | string | null;
  /** The platform's, or attempt's LightAbortSignal (node-abort.ts: the call is its `call`, no listener). */
  signal: AbortSignal | LightAbortSignal | null;
  maxBuffered: number;
}

/** `http://host:port/path?q` → origin and path, without a URL object. */
function split(url: string): { origin: string; path: string } {
  const slash = url.indexOf("/", url.indexOf("//") + 2);
  return slash < 0 ? { origin: url, path: "/" } : { origin: url.slice(0, slash), path: url.slice(slash) };
}

/** Calls `url` through `dispatcher`; resolves with the answer's Response, rejects if none came. */
export function dispatchCall(dispatcher: Dispatcher, opts: CallOptions): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    const { origin, path } = split(opts.url);
    const call = new Call(opts, resolve, reject);
    dispatcher.dispatch(
      { origin, path, method: opts.method as Dispatcher.HttpMethod, headers: opts.headers, body: opts.body },
      call as unknown as Dispatcher.DispatchHandler,
    );
  });
}

/** undici's handler for one call (its callback API: onConnect, onHeaders, onData, onComplete, onError). */
class Call {
  #abort: ((reason?: Error) => void) | undefined;
  #resolve: ((res: Response) => void) | undefined;
  #reject: ((err: Error) => void) | undefined;
  #status = 0;
  #headers: Headers | undefined;
  /** Collecting a whole answer: its chunks and their size. */
  #chunks: Buffer[] | undefined;
  #size = 0;
  /** Relaying a stream: its chunks while open. */
  #stream: ChunkQueue | undefined;
  #discard = false;
  readonly #signal: AbortSignal | LightAbortSignal | null;
  readonly #opts: CallOptions;

  constructor(opts: CallOptions, resolve: (res: Response) => void, reject: (err: Error) => void) {
    this.#opts = opts;
    this.#signal = opts.signal;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  onConnect(abort: (reason?: Error) => void): void {
    this.#abort = abort;
    tieToSignal(this.#signal, this, abort);
  }

  /** The call's signal aborted (watch): abort it, if it is still running. */
  aborted(reason: unknown): void {
    this.#abort?.(reason instanceof Error ? reason : new Error("aborted"));
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void): boolean {
    if (status < 200) return true; // 1xx: the answer is still to come
    const pairs: string[] = new Array(raw.length);
    let length = Number.NaN;
    let eventStream = false;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!.toString("latin1").toLowerCase();
      const value = raw[i + 1]!.toString("latin1");
      pairs[i] = name;
      pairs[i + 1] = value;
      if (name === "content-length") length = Number(value);
      else if (name === "content-type") eventStream = value.includes("text/event-stream");
    }
    // A Headers without undici's webidl layer (node-headers.ts): the proxy reads and copies it.
    const headers = LightHeaders.fromRaw(pairs) as unknown as Headers;
    this.#status = status;
    this.#headers = headers;
    if (NO_BODY.has(status) || this.#opts.method === "HEAD") {
      this.#discard = true;
      this.#settle(new Response(null, { status, headers }));
    } else if (length <= this.#opts.maxBuffered && !eventStream) {
      this.#chunks = [];
    } else {
      // Up to 64 KiB read ahead, as undici.request's body did: pausing the socket at every
      // chunk would cost a readStop/readStart pair (epoll changes) per SSE event.
      this.#stream = new ChunkQueue(resume, (reason) => this.#abort?.(reason), READ_AHEAD);
      this.#settle(streamedResponse(this.#stream, status, headers));
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.#chunks) {
      this.#chunks.push(chunk);
      this.#size += chunk.byteLength;
      return true;
    }
    if (this.#discard || !this.#stream) return true;
    // false pauses the socket until a read resumes it.
    return this.#stream.push(chunk);
  }

  onComplete(): void {
    this.#done();
    if (this.#chunks) {
      const chunks = this.#chunks;
      this.#chunks = undefined;
      const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.#size);
      const whole = new Uint8Array(
        bytes.buffer,
        bytes.byteOffset,
        bytes.byteLength,
      ) as Uint8Array<ArrayBuffer>;
      this.#settle(bufferedResponse(whole, this.#status, this.#headers!));
    } else if (this.#stream) {
      this.#stream.end();
      this.#stream = undefined;
    }
  }

  onError(err: Error): void {
    this.#done();
    this.#chunks = undefined;
    if (this.#reject) {
      const reject = this.#reject;
      this.#resolve = this.#reject = undefined;
      reject(err);
    } else if (this.#stream) {
      this.#stream.fail(err);
      this.#stream = undefined;
    }
  }

  #settle(res: Response): void {
    const resolve = this.#resolve;
    this.#resolve = this.#reject = undefined;
    resolve?.(res);
  }

  #done(): void {
    untieFromSignal(this.#signal, this);
    this.#abort = undefined;
  }
}

/**
 * The calls each signal aborts. One listener per signal, added with its first call and left
 * on it: Node 20's removeEventListener costs ~6.6 µs (addEventListener ~1.5), once per upstream
 * call; a Set delete costs next to nothing. A signal shared by many calls (a long-lived one)
 * keeps one listener, and its set only holds the calls still running. Weakly keyed: a signal
 * and its set go together.
 */
const watched = new WeakMap<AbortSignal, Set<SignalledCall>>();

/** What a dispatched call offers its signal: told the reason when the signal aborts. */
export interface SignalledCall {
  aborted(reason: unknown): void;
}

/**
 * Ties an undici call to its signal as it connects (this file's `Call`, undici-fetch.ts's light
 * GET): aborted at once when the signal already is; else told when it aborts, through a light
 * signal's own field or the platform signal's one shared listener (`watched`).
 */
export function tieToSignal(
  signal: AbortSignal | LightAbortSignal | null | undefined,
  call: SignalledCall,
  abort: (reason?: Error) => void,
): void {
  if (signal?.aborted) abort(signal.reason as Error);
  else if (signal instanceof LightAbortSignal) signal.call = call;
  else if (signal) watch(signal, call);
}

/** The call has ended: its signal no longer tells it. */
export function untieFromSignal(
  signal: AbortSignal | LightAbortSignal | null | undefined,
  call: SignalledCall,
): void {
  if (signal instanceof LightAbortSignal) {
    if (signal.call === call) signal.call = undefined;
  } else if (signal) watched.get(signal)?.delete(call);
}

function watch(signal: AbortSignal, call: SignalledCall): void {
  let calls = watched.get(signal);
  if (!calls) {
    const set = new Set<SignalledCall>();
    calls = set;
    watched.set(signal, set);
    signal.addEventListener("abort", () => {
      for (const c of [...set]) c.aborted(signal.reason);
      set.clear();
    });
  }
  calls.add(call);
}
