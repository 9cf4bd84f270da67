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
import type { WireCall } from "./bun-wire-call.ts";
import { Conn, handlers } from "./bun-wire-conn.ts";

/** How every pool of one wireFetch behaves (its options, resolved). */
export interface PoolOptions {
  /** Idle sockets are closed after this long (default 4 s). */
  idleMs: number;
  /** Sockets open at once to this origin (default 1,024). */
  maxSockets: number;
  /** Milliseconds, for idle times. */
  now: () => number;
}

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
