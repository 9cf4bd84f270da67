/**
 * Keep-alive HTTP/1.1 connections to one origin for the Bun wire client (bun-wire.ts), on
 * `Bun.connect` sockets: uSockets on the JS thread's own event loop, so a call is one
 * `write` and one data callback per answer, with no hand-over to Bun's HTTP-client thread
 * as `fetch` makes.
 *
 * Rules (as Go's and undici's transports keep them): an idle socket is reused (the most
 * recently used first), closed after `idleMs` (shorter than the servers' own keep-alive:
 * uvicorn, so vLLM, closes idle connections after 5 s) and never reused after
 * `Connection: close`, a body not read to its end, an error or an abort. A request written
 * on a reused socket that the server closes before any byte of the answer is sent once more
 * on a new connection (the server may have closed it idle while the request was on its
 * way); nothing else is retried here. At most `maxSockets` sockets at once; calls past that
 * wait for one, in order.
 */
import type { Socket, SocketHandler } from "bun";
import type { WireCall } from "./bun-wire-call.ts";
import { FramingError, type ResponseHead, ResponseParser } from "./http1-parse.ts";

export interface PoolOptions {
  /** Idle sockets are closed after this long (default 4 s). */
  idleMs: number;
  /** Sockets open at once to this origin (default 1,024). */
  maxSockets: number;
  now: () => number;
}

const connectionLost = (origin: string, answered: boolean) =>
  new Error(
    answered
      ? `the model server at ${origin} closed the connection in the middle of its answer`
      : `the model server at ${origin} closed the connection before answering`,
  );

/** One socket and the call it carries. */
class Conn {
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
  #pieces: Uint8Array[] = [];

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
    this.#pieces = [];
    this.call?.body(pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces));
  }

  start(call: WireCall): void {
    this.call = call;
    call.conn = this;
    if (this.reused) this.socket!.ref(); // idle, it was unref'd
    this.parser.reset(call.isHead);
    this.write(call.bytes);
  }

  write(bytes: Uint8Array): void {
    const n = this.socket!.write(bytes);
    this.unsent = n < bytes.byteLength ? bytes.subarray(Math.max(0, n)) : undefined;
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
      this.#pieces = [];
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

const handlers: SocketHandler<Conn> = {
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

/** The keep-alive sockets to one origin (`host:port`). */
export class Pool {
  readonly #idle: Conn[] = [];
  readonly #waiting: { call: WireCall; fresh: boolean }[] = [];
  #open = 0;
  /** Sockets paused because their answer's reader is behind (backpressure). */
  paused = 0;

  constructor(
    readonly origin: string,
    private readonly hostname: string,
    private readonly port: number,
    private readonly opts: PoolOptions,
    /** Called when its last socket has closed and no call waits (its owner forgets it). */
    private readonly onEmpty: (pool: Pool) => void = () => {},
  ) {}

  /** Sockets open or connecting, idle ones included. */
  get size(): number {
    return this.#open;
  }

  /** Runs `call` on an idle socket, a new one (`fresh`: always), or once one is free. */
  dispatch(call: WireCall, fresh = false): void {
    if (!fresh) {
      const now = this.opts.now();
      for (let conn = this.#idle.pop(); conn; conn = this.#idle.pop()) {
        if (now - conn.idleSince < this.opts.idleMs && conn.socket?.readyState === 1) {
          conn.start(call);
          return;
        }
        conn.destroy(undefined);
      }
    }
    if (this.#open >= this.opts.maxSockets) {
      // A fresh socket is owed to a retried call: make room by closing an idle one.
      if (!fresh || !this.#idle.length) {
        this.#waiting.push({ call, fresh });
        return;
      }
      this.#idle.shift()!.destroy(undefined);
    }
    this.#connect(call);
  }

  #connect(call: WireCall): void {
    this.#open++;
    const conn = new Conn(this);
    conn.call = call;
    call.conn = conn;
    Bun.connect<Conn>({ hostname: this.hostname, port: this.port, socket: handlers, data: conn }).catch(
      (err: Error & { code?: string }) => {
        if (conn.closed) return;
        conn.closed = true;
        const c = conn.call;
        conn.call = undefined;
        this.gone(conn);
        c?.fail(
          new Error(`could not connect to the model server at ${this.origin} (${err.code ?? err.message})`),
        );
      },
    );
  }

  /** `conn` finished a call and may carry another. */
  release(conn: Conn): void {
    conn.reused = true;
    conn.resume(undefined);
    // An idle socket does not keep the process alive (as undici's and Bun's fetch pools).
    conn.socket?.unref();
    // A socket that just carried an answer to its end is live: a waiting call takes it.
    const next = this.#nextWaiting();
    if (next) conn.start(next.call);
    else {
      conn.idleSince = this.opts.now();
      this.#idle.push(conn);
      sweepSoon(this);
    }
  }

  /** `conn` closed (or never connected): forget it, and start a waiting call on a new socket. */
  gone(conn: Conn): void {
    this.#open--;
    const i = this.#idle.indexOf(conn);
    if (i >= 0) this.#idle.splice(i, 1);
    const next = this.#nextWaiting();
    if (next) this.#connect(next.call);
    // Checked after the caller is done: a dispatch closing an expired socket, or a retry,
    // opens a new one right after.
    else if (this.#open === 0) queueMicrotask(() => this.#open === 0 && this.onEmpty(this));
  }

  /** The first waiting call still open (one aborted while it waited is dropped). */
  #nextWaiting(): { call: WireCall; fresh: boolean } | undefined {
    let next = this.#waiting.shift();
    while (next && !next.call.open) next = this.#waiting.shift();
    return next;
  }

  /** Closes the sockets idle for `idleMs` or more; true while idle ones remain. */
  sweep(): boolean {
    const now = this.opts.now();
    while (this.#idle.length && now - this.#idle[0]!.idleSince >= this.opts.idleMs)
      this.#idle.shift()!.destroy(undefined);
    return this.#idle.length > 0;
  }

  /** Closes every idle socket (shutdown, tests). */
  close(): void {
    for (const conn of this.#idle.splice(0)) conn.destroy(undefined);
  }
}

/** Pools with idle sockets, swept once a second by one unref'd timer. */
const sweeping = new Set<Pool>();
let timer: ReturnType<typeof setInterval> | undefined;

function sweepSoon(pool: Pool): void {
  sweeping.add(pool);
  if (timer) return;
  timer = setInterval(() => {
    for (const p of sweeping) if (!p.sweep()) sweeping.delete(p);
    if (sweeping.size === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  }, 1000);
  timer.unref?.();
}
