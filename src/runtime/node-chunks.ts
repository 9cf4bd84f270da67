/**
 * A streamed upstream answer's body under Node as the chunks undici hands over, read one
 * by one, with no web stream in between.
 *
 * Node 20's `new ReadableStream()` costs ~19-26 µs (its constructor makes it transferable)
 * and every chunk through it a few promise hops more; the gateway reads an event stream
 * only through `read()` and `cancel()` (attempt's first-byte wait, then the relay). So the
 * dispatcher's handler (node-dispatch.ts) feeds this queue, the Response offers it under
 * `CHUNK_SOURCE` (attempt.ts asks for it), and a web stream is built over it only when
 * something reads `body` instead.
 *
 * Same behaviour as the stream it replaces: up to `readAhead` bytes are read from the socket
 * before anyone asks, then the socket pauses until a read takes them (backpressure reaches
 * the pod); `cancel()` aborts the upstream call and ends a pending read as done; an error of
 * the call (the pod broke off, the signal aborted) rejects the pending and later reads.
 */

import type { ChunkWaiter } from "../proxy/relay.ts";

/**
 * The key under which an upstream Response offers its body as a ChunkSource (read, cancel).
 * A registered symbol, so the core (src/proxy/attempt.ts) asks for it without importing runtime code.
 */
export const CHUNK_SOURCE = Symbol.for("inference-gateway.chunkSource");

type ReadResult = ReadableStreamReadResult<Uint8Array>;

const DONE: ReadResult = { done: true, value: undefined };

export class ChunkQueue {
  #chunks: Uint8Array[] = [];
  #queued = 0;
  #paused = false;
  /** The call ended well: reads drain what is queued, then are done. */
  #ended = false;
  /** The reader cancelled: everything after is dropped and reads are done. */
  #cancelled = false;
  #error: Error | undefined;
  #pending: { resolve: (r: ReadResult) => void; reject: (err: Error) => void } | undefined;
  /** A waiter of `wait`: the next chunk goes to it from `push` itself. */
  /** Who `wait` hands the next chunk to (the relay's direct loop), while one waits. */
  #waiter: ChunkWaiter | undefined;

  constructor(
    /** Resumes a socket paused by `push` returning false. */
    private readonly resume: () => void,
    /** Aborts the upstream call (cancel). */
    private readonly abort: (reason: Error) => void,
    private readonly readAhead: number,
    /**
     * `wait` may hand chunks over from `push` (the Bun wire client's socket callback). Off by
     * default: under Node, undici's onData would then write the client's answer from inside
     * its parser (an end-to-end run with it on read sse32p no better, 2 of 3 rounds worse).
     */
    private readonly handsOver = false,
  ) {}

  /** A chunk from the socket; false asks undici to pause it until a read takes the queue below `readAhead`. */
  push(chunk: Uint8Array): boolean {
    if (this.#cancelled) return true;
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      waiter.arrived(chunk);
      return true;
    }
    const pending = this.#pending;
    if (pending) {
      this.#pending = undefined;
      pending.resolve({ done: false, value: chunk });
      return true;
    }
    this.#chunks.push(chunk);
    this.#queued += chunk.byteLength;
    if (this.#queued < this.readAhead) return true;
    this.#paused = true;
    return false;
  }

  /** The answer is complete. */
  end(): void {
    this.#ended = true;
    this.#settleWaiter(undefined);
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.resolve(DONE);
  }

  /** The call failed (pod broke off, aborted): the pending read and later ones reject with `err`. */
  fail(err: Error): void {
    if (this.#cancelled || this.#ended) return;
    this.#error = err;
    this.#chunks = [];
    this.#settleWaiter(err);
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.reject(err);
  }

  read(): Promise<ReadResult> {
    if (this.#chunks.length > 0) {
      const value = this.#chunks.shift()!;
      this.#queued -= value.byteLength;
      if (this.#paused && this.#queued < this.readAhead) this.#unpause();
      return Promise.resolve({ done: false, value });
    }
    if (this.#error) return Promise.reject(this.#error);
    if (this.#ended || this.#cancelled) return Promise.resolve(DONE);
    if (this.#pending || this.#waiter)
      return Promise.reject(new TypeError("The upstream body is already being read."));
    if (this.#paused) this.#unpause();
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject };
    });
  }

  /**
   * The next chunk handed to `waiter.arrived` by `push` itself, in the socket's own callback: no
   * promise, no result object and no microtask turn per chunk (a paced stream's every chunk
   * wakes the process on its own). Only while nothing is queued, ended, failed, cancelled or
   * being read, nor for a queue made without `handsOver`: false then, and the caller reads with
   * `read` instead. The end (`arrived` with
   * undefined), a failure (`broke`) and a cancel (undefined) come a microtask later, as a
   * read's settling would: never inside the socket's callback that ends the call (its
   * connection goes back to the pool first) nor inside the caller's own `cancel`.
   */
  wait(waiter: ChunkWaiter): boolean {
    if (
      !this.handsOver ||
      this.#chunks.length > 0 ||
      this.#error ||
      this.#ended ||
      this.#cancelled ||
      this.#pending ||
      this.#waiter
    )
      return false;
    if (this.#paused) this.#unpause();
    this.#waiter = waiter;
    return true;
  }

  /**
   * The whole body at once, when the answer has already ended with everything still queued
   * (a short stream the pod sent in one go, read in the same socket callback as its head),
   * taken (the queue is then done); undefined otherwise, nothing taken. Asked only by a caller
   * that answers such a stream as bytes (attempt's `wholeStreams`): the Bun wire client's queue,
   * and Node's dispatcher's (undici hands the head, the data and the end over in one parser
   * run, before the call's promise settles; issue 19, thirteenth pass).
   */
  whole(): Uint8Array | undefined {
    if (!this.#ended || this.#error || this.#cancelled || this.#pending || this.#waiter) return undefined;
    const chunks = this.#chunks;
    this.#chunks = [];
    this.#queued = 0;
    if (chunks.length === 1) return chunks[0]!;
    return chunks.length === 0 ? new Uint8Array(0) : Buffer.concat(chunks);
  }

  cancel(reason?: unknown): Promise<void> {
    if (this.#cancelled || this.#ended || this.#error) return Promise.resolve();
    this.#cancelled = true;
    this.#chunks = [];
    this.#settleWaiter(undefined);
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.resolve(DONE);
    this.abort(reason instanceof Error ? reason : new Error("cancelled"));
    return Promise.resolve();
  }

  /** The waiter of `wait` gets the end (undefined) or `err`, a microtask later. */
  #settleWaiter(err: Error | undefined): void {
    const waiter = this.#waiter;
    if (!waiter) return;
    this.#waiter = undefined;
    queueMicrotask(err === undefined ? () => waiter.arrived(undefined) : () => waiter.broke(err));
  }

  #unpause(): void {
    this.#paused = false;
    this.resume();
  }
}

/** A web stream over `queue`, for a reader that asks for `body` (pull-based: nothing read ahead of the queue's own). */
export function streamOf(queue: ChunkQueue): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      pull: (controller) =>
        queue.read().then((r) => {
          if (r.done) controller.close();
          else controller.enqueue(r.value);
        }),
      cancel: (reason) => queue.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}
