/**
 * One keep-alive socket of the Bun wire client's pool (bun-wire-pool.ts) and the call it
 * carries: writes the request, feeds the answer's bytes to the parser (http1-parse.ts) and
 * the call (bun-wire-call.ts), pauses and resumes reading for backpressure, and tells its
 * pool when it is free again or gone. A close before the answer on a reused socket sends the
 * call once more on a new one (the retry-once rule); any other close fails the call.
 */
import type { Socket, SocketHandler } from "bun";
import type { WireCall } from "./bun-wire-call.ts";
import type { Pool } from "./bun-wire-pool.ts";
import { FramingError, type ResponseHead, ResponseParser } from "./http1-parse.ts";

/**
 * Largest request (head and body) written through the shared scratch buffer in one `write`;
 * larger bodies are written after their head as they are (the scratch would hold that much
 * memory for good). Measured in a loopback pair, 30 KiB bodies at 32 connections, client CPU
 * per request: head and body as two writes 21.8 µs, one write of a fresh copy 27, one write
 * through the scratch 16-19 (docs/overhead-bodies.md, sixth pass).
 */
const MAX_JOINED = 256 * 1024;
/** The scratch buffer of `#writeJoined` (one for the JS thread; grown on demand). */
let scratch = Buffer.allocUnsafe(0);

const connectionLost = (origin: string, answered: boolean) =>
  new Error(
    answered
      ? `the model server at ${origin} closed the connection in the middle of its answer`
      : `the model server at ${origin} closed the connection before answering`,
  );

/** One socket and the call it carries. */
export class Conn {
  socket: Socket<Conn> | undefined;
  call: WireCall | undefined;
  /** Has carried a call already. */
  reused = false;
  idleSince = 0;
  closed = false;
  paused = false;
  /** Bytes of the request still to write (the socket's buffer was full). */
  unsent: Uint8Array | undefined;
  readonly parser: ResponseParser;
  /**
   * The body pieces of one data callback, handed over as one chunk: a chunked answer that
   * arrives at once (a short stream) is then one chunk, as fetch gives it, so the relay can
   * see it ended with its first read (ChunkSource.ended) instead of relaying each HTTP chunk.
   */
  readonly #pieces: Uint8Array[] = [];

  constructor(readonly pool: Pool) {
    this.parser = new ResponseParser({
      head: (head: ResponseHead) => this.call?.head(head),
      body: (chunk: Uint8Array) => this.#pieces.push(chunk),
    });
  }

  /** Hands the pieces of this data callback to the call as one chunk. */
  #flush(): void {
    const pieces = this.#pieces;
    if (pieces.length === 0) return;
    // The same array for every callback (thirteenth pass: not one an answer): emptied before
    // the chunk is handed over, the chunk itself a piece or a copy, never the array.
    const chunk = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
    pieces.length = 0;
    this.call?.body(chunk);
  }

  start(call: WireCall): void {
    this.call = call;
    call.conn = this;
    if (this.reused) this.socket!.ref(); // idle, it was unref'd
    this.parser.reset(call.isHead, call.light);
    const body = call.largeBody;
    if (!body) this.write(call.bytes);
    else if (call.bytes.byteLength + body.byteLength <= MAX_JOINED) this.#writeJoined(call.bytes, body);
    else {
      this.write(call.bytes);
      if (this.unsent) this.unsent = Buffer.concat([this.unsent, body]);
      else this.write(body);
    }
  }

  write(bytes: Uint8Array): void {
    const n = this.socket!.write(bytes);
    this.unsent = n < bytes.byteLength ? bytes.subarray(Math.max(0, n)) : undefined;
  }

  /**
   * Head and a large body in one `write` (one send, one segment on loopback, one wake-up of
   * the pod) through the module's one scratch buffer: the socket's write is unbuffered, so
   * once it returns the kernel holds the bytes and the buffer is free for the next call.
   * What the kernel did not take is copied out of it (the next call reuses it).
   */
  #writeJoined(head: Uint8Array, body: Uint8Array): void {
    const size = head.byteLength + body.byteLength;
    if (scratch.byteLength < size)
      scratch = Buffer.allocUnsafe(Math.min(MAX_JOINED, Math.max(size, scratch.byteLength * 2)));
    scratch.set(head, 0);
    scratch.set(body, head.byteLength);
    const n = this.socket!.write(scratch, 0, size);
    this.unsent = n < size ? Uint8Array.prototype.slice.call(scratch, Math.max(0, n), size) : undefined;
  }

  onData(data: Buffer): void {
    const call = this.call;
    if (!call) {
      this.destroy(undefined); // bytes nobody asked for: not trusted any more
      return;
    }
    call.answered = true;
    let ended: boolean;
    try {
      ended = this.parser.feed(data);
    } catch (err) {
      if (!(err instanceof FramingError)) throw err;
      this.#pieces.length = 0;
      this.call = undefined;
      call.fail(err);
      this.destroy(undefined);
      return;
    }
    this.#flush();
    if (!ended || this.call !== call) return;
    this.call = undefined;
    call.conn = undefined;
    const reusable = this.parser.reusable && this.unsent === undefined;
    call.end();
    if (reusable) this.pool.release(this);
    else this.destroy(undefined);
  }

  onClose(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.paused) this.pool.paused--;
    this.paused = false;
    const call = this.call;
    this.call = undefined;
    this.pool.gone(this);
    if (!call?.open) return;
    call.conn = undefined;
    if (this.parser.untilClose) call.end();
    else if (!call.answered && this.reused && !call.retried) {
      call.retried = true;
      this.pool.dispatch(call, true);
    } else call.fail(connectionLost(this.pool.origin, call.answered));
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.pool.paused++;
    this.socket?.pause();
  }

  resume(call: WireCall | undefined): void {
    if (!this.paused || (call && call !== this.call)) return;
    this.paused = false;
    this.pool.paused--;
    this.socket?.resume();
  }

  /** The server closed its end, or the socket failed: as a close, and the socket is let go. */
  lost(): void {
    this.onClose();
    this.socket?.terminate();
  }

  /** Closes the socket (if `call` is given: only while it still carries that call). */
  destroy(call: WireCall | undefined): void {
    if (call && call !== this.call) return;
    this.call = undefined;
    this.socket?.terminate();
    this.onClose();
  }
}

/** The socket callbacks, shared by every socket (each finds its Conn as `socket.data`). */
export const handlers: SocketHandler<Conn> = {
  open(socket) {
    const conn = socket.data;
    conn.socket = socket;
    if (conn.closed) {
      socket.terminate(); // its call was aborted while connecting
      return;
    }
    socket.setNoDelay(true);
    const call = conn.call;
    conn.call = undefined;
    if (call?.open) conn.start(call);
    else conn.pool.release(conn);
  },
  data: (socket, data) => socket.data.onData(data as Buffer),
  drain(socket) {
    const conn = socket.data;
    if (conn.unsent) conn.write(conn.unsent);
  },
  close: (socket) => socket.data.onClose(),
  end: (socket) => socket.data.lost(),
  error: (socket) => socket.data.lost(),
  connectError: () => {}, // the promise of Bun.connect rejects: handled there
};
