/**
 * One upstream call of the Bun wire client (bun-wire.ts): the request as the bytes written
 * to the socket, and its answer turned into a web Response as it arrives.
 *
 * As the Node fetch does (node-dispatch.ts): an answer whose Content-Length is at most 1 MiB
 * and that is no event stream is collected and handed over as bytes; any other is handed
 * over at its head as a queue of its chunks (node-chunks.ts, offered under CHUNK_SOURCE),
 * which pauses the socket once 64 KiB wait unread and resumes it when the relay reads.
 */
import { decodingFetch } from "../proxy/decode.ts";
import type { ResponseHead } from "./http1-parse.ts";
import { LightAbortSignal } from "./node-abort.ts";
import { ChunkQueue } from "./node-chunks.ts";
import { bufferedResponse, streamedResponse } from "./node-upstream-response.ts";

/** Bytes of a streamed answer read from the socket before the reader asks for them. */
const READ_AHEAD = 64 * 1024;
/** Largest answer with a content-length that is read whole before the Response is made. */
const MAX_BUFFERED = 1 << 20;

/**
 * A light GET's answer (bun-wire.ts `LIGHT_GET`): the status and the whole body, decoded as a
 * fetch of the same client would give it. No Headers, no Response (fourteenth pass).
 */
export interface LightAnswer {
  status: number;
  body: Uint8Array;
}

type Resolve = (res: Response | Promise<Response>) => void;
/** A light call's resolve, under the name of a Response's one (the call keeps one field). */
type LightResolve = (answer: LightAnswer | Promise<LightAnswer>) => void;

/** What a call needs of the connection it runs on. */
export interface CallConnection {
  pause(): void;
  resume(call: WireCall): void;
  /** Closes the socket now (abort, cancel): it is never reused. */
  destroy(call: WireCall): void;
}

/** One request and its answer. */
export class WireCall {
  /** The request, head and body, as written to the socket. */
  readonly bytes: Uint8Array;
  /** A large body, written after `bytes` (the head) instead of copied into it. */
  largeBody: Uint8Array | undefined;
  readonly isHead: boolean;
  /** Retried once already on a new connection (a reused one closed before answering). */
  retried = false;
  /** Any byte of the answer arrived. */
  answered = false;
  /**
   * An answer with a `Content-Encoding` header goes through `decodingFetch` (decode.ts) before
   * it is handed over: what `decodingWhenEncoded` did for every answer, here decided by the
   * parser, which has read the header already (thirteenth pass).
   */
  decode = false;
  /**
   * A light GET (a background scrape): the parser builds no Headers (`reset(…, bare)`), the whole
   * body is collected whatever its framing, and the call resolves to a `LightAnswer`.
   */
  light = false;
  conn: CallConnection | undefined;
  #resolve: Resolve | undefined;
  #reject: ((err: Error) => void) | undefined;
  #head: ResponseHead | undefined;
  /**
   * A whole answer being collected: its first chunk alone (nearly every such answer is one
   * chunk: no array an answer, thirteenth pass), the array only from a second chunk on.
   */
  #collecting = false;
  #first: Uint8Array | undefined;
  #more: Uint8Array[] | undefined;
  #size = 0;
  #queue: ChunkQueue | undefined;
  readonly #signal: AbortSignal | LightAbortSignal | undefined;
  #onAbort: (() => void) | undefined;

  constructor(
    bytes: Uint8Array,
    isHead: boolean,
    signal: AbortSignal | LightAbortSignal | undefined,
    resolve: Resolve,
    reject: (err: Error) => void,
  ) {
    this.bytes = bytes;
    this.isHead = isHead;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#signal = signal;
    if (signal instanceof LightAbortSignal) signal.call = this;
    else if (signal) {
      this.#onAbort = () => this.aborted(signal.reason);
      signal.addEventListener("abort", this.#onAbort);
    }
  }

  /** Still waiting for its answer, or reading its body. */
  get open(): boolean {
    return this.#resolve !== undefined || this.#queue !== undefined || this.#collecting;
  }

  /** The call's signal aborted: reject what is pending with its reason and close the socket. */
  aborted(reason: unknown): void {
    if (!this.open) return;
    const conn = this.conn;
    // As fetch does: the rejection is the signal's reason itself.
    this.fail(reason ?? new DOMException("This operation was aborted", "AbortError"));
    conn?.destroy(this);
  }

  head(head: ResponseHead): void {
    this.#head = head;
    if (head.length === 0) return; // no body: answered at `end`
    if (this.light || (head.length > 0 && head.length <= MAX_BUFFERED && !head.eventStream)) {
      this.#collecting = true;
      return;
    }
    this.#queue = new ChunkQueue(
      () => this.conn?.resume(this),
      (reason) => this.aborted(reason),
      READ_AHEAD,
      true, // each chunk handed to a waiting relay from the socket's callback (ChunkQueue.wait)
    );
    this.#settle(streamedResponse(this.#queue, head.status, head.headers, head.hop));
  }

  body(chunk: Uint8Array): void {
    if (this.#collecting) {
      if (this.#first === undefined) this.#first = chunk;
      else if (this.#more === undefined) this.#more = [this.#first, chunk];
      else this.#more.push(chunk);
      this.#size += chunk.byteLength;
    } else if (this.#queue && !this.#queue.push(chunk)) this.conn?.pause();
  }

  /** The answer ended well. */
  end(): void {
    const head = this.#head!;
    this.#done();
    if (this.light) this.#lightEnd(head);
    else if (this.#queue) {
      const queue = this.#queue;
      this.#queue = undefined;
      queue.end();
    } else if (head.length === 0) {
      const noBody = this.isHead || head.status === 204 || head.status === 304;
      this.#settle(
        noBody
          ? new Response(null, { status: head.status, headers: head.headers })
          : bufferedResponse(new Uint8Array(0), head.status, head.headers, head.hop),
      );
    } else {
      this.#settle(bufferedResponse(this.#collected(), head.status, head.headers, head.hop));
    }
  }

  /** The collected body as one plain view (empty when none), the collection emptied. */
  #collected(): Uint8Array<ArrayBuffer> {
    const first = this.#first;
    const more = this.#more;
    this.#collecting = false;
    this.#first = this.#more = undefined;
    const b = more !== undefined ? Buffer.concat(more, this.#size) : (first ?? new Uint8Array(0));
    // A plain view, not a Buffer: the Response's arrayBuffer() copies a partial view with
    // `slice()`, which on a Buffer is another view of the whole socket buffer.
    return new Uint8Array(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength);
  }

  /** A light call's end: its status and body, decoded (as `#settle` would) when encoded. */
  #lightEnd(head: ResponseHead): void {
    const resolve = this.#resolve as LightResolve | undefined;
    this.#resolve = this.#reject = undefined;
    const body = this.#collected();
    const status = head.status;
    if (!(this.decode && head.encoding !== undefined && body.byteLength > 0)) {
      resolve?.({ status, body });
      return;
    }
    // Rare (a scrape asks for no encoding): through the Response path's own decoding.
    const headers = new Headers({ "content-encoding": head.encoding });
    resolve?.(
      decoded(bufferedResponse(body, status, headers))
        .then((res) => res.arrayBuffer())
        .then((bytes) => ({ status, body: new Uint8Array(bytes) })),
    );
  }

  /** The call failed: the pending answer rejects, or the body's pending and later reads do. */
  fail(reason: unknown): void {
    this.#done();
    this.#collecting = false;
    this.#first = this.#more = undefined;
    const err = reason as Error;
    if (this.#reject) {
      const reject = this.#reject;
      this.#resolve = this.#reject = undefined;
      reject(err);
    } else if (this.#queue) {
      const queue = this.#queue;
      this.#queue = undefined;
      queue.fail(err);
    }
  }

  #settle(res: Response): void {
    const resolve = this.#resolve;
    this.#resolve = this.#reject = undefined;
    if (this.decode && this.#head?.contentEncoding) resolve?.(decoded(res));
    else resolve?.(res);
  }

  #done(): void {
    const signal = this.#signal;
    if (signal instanceof LightAbortSignal) {
      if (signal.call === this) signal.call = undefined;
    } else if (signal && this.#onAbort) {
      signal.removeEventListener("abort", this.#onAbort);
      this.#onAbort = undefined;
    }
  }
}

/** An answer that declares a content encoding, decoded when its bytes really are gzip or zlib. */
function decoded(res: Response): Promise<Response> {
  return decodingFetch(() => Promise.resolve(res))("", {});
}
