import { type Clock, type SetTimer, systemClock, systemTimer } from "../clock.ts";
import type { Closing } from "../lifecycle.ts";
import type { Outcome } from "../scope.ts";
import { concatBytes } from "./bytes.ts";
import { IdleTimeout, IdleWatch } from "./idle-watch.ts";
import { type DirectController, DirectLoop, ShuttingDown } from "./relay-direct.ts";
import type { Pieces } from "./sse-framer.ts";

export { type DirectController, SHUTDOWN_MESSAGE, send } from "./relay-direct.ts";

const encoder = new TextEncoder();

/** The SSE event a client sees when the upstream stream breaks: the openai client raises it as an APIError. */
export function sseErrorEvent(message: string, code = "upstream_stream_error"): Uint8Array {
  const body = { error: { message, type: "server_error", param: null, code } };
  return encoder.encode(`data: ${JSON.stringify(body)}\n\n`);
}

/** Sees every chunk on its way (accounting); may hold back or drop bytes, never delays a whole stream. */
export interface Tap {
  /** Returns the bytes to send for this chunk: one array, pieces in order, or undefined (nothing now). */
  chunk(bytes: Uint8Array): Pieces;
  /** End of the body: anything held back. */
  flush(): Uint8Array | undefined;
  /**
   * A whole body at once, as `chunk` then `flush` would give it, joined (tappedWhole); a tap
   * that offers it may answer undefined, having done nothing: chunk and flush are used then.
   */
  whole?(bytes: Uint8Array, inPlace?: boolean): Uint8Array | undefined;
}

export interface RelayOptions {
  /** Called exactly once: the body ended, broke, or the client cancelled. */
  onEnd(outcome: Outcome, detail?: string): void;
  /** Aborts the upstream request (client went away, idle timeout). */
  abortUpstream(reason: string): void;
  /** For SSE: end a broken stream with an error event instead of a bare cut. */
  sse: boolean;
  tap?: Tap;
  /** Longest wait for the next upstream chunk; only runs while the client is waiting. */
  idleTimeoutMs?: number;
  /** Aborted when the gateway stops waiting for running requests: the stream ends with an error event. */
  closing?: Closing;
  clock?: Clock;
  setTimer?: SetTimer;
  /**
   * A `type: "direct"` stream (Bun's: its server writes each chunk straight to the socket;
   * the Bun entry asks for it through GatewayOptions.directStreams); absent or false: the
   * standard pull stream. A function builds the runtime's own direct stream from the source
   * (the Node entry: src/runtime/node-relay.ts).
   */
  direct?: DirectStreams;
  /**
   * Direct shape: whether a chunk holds the stream's last event (`[DONE]` and the like,
   * accounting.ts `endsStream`). Such a chunk is written without a flush of its own and goes
   * out with the close that follows (one socket write fewer per stream); should the pod
   * keep the stream open after it, Bun's own flush sends it a moment later.
   */
  lastEvent?: (chunk: Uint8Array) => boolean;
}

/**
 * Who `ChunkSource.wait` hands the next chunk to: an object with methods (the relay's direct
 * loop), not two closures, so the producer's optimized code calls methods of one class
 * (closures made per stream get such callers thrown away by JSC: the relay below).
 */
export interface ChunkWaiter {
  /** The next chunk; undefined: the end. */
  arrived(chunk: Uint8Array | undefined): void;
  broke(err: Error): void;
}

/** The one pull and the cancel of a direct stream: what a runtime's own direct stream drives. */
export interface DirectSource {
  pull(controller: DirectController): Promise<void>;
  cancel(reason?: unknown): Promise<void>;
}

/** Bun's `type: "direct"` streams (true), a runtime's own (a function of the source), or none. */
export type DirectStreams = boolean | ((source: DirectSource) => ReadableStream<Uint8Array>);

type ReadResult = Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>["read"]>>;

/**
 * A body as its reader: what `attempt` hands over when it has already read a stream's
 * first chunk (replayed by the first `read`), so the relay reads the pod's stream itself
 * instead of through one more ReadableStream layer.
 */
export interface ChunkSource {
  read(): Promise<ReadResult>;
  cancel(reason?: unknown): Promise<void>;
  /**
   * The chunk already read, if it is still there (taken: later reads go on from the pod):
   * the relay sends it at its first pull without a read, a promise or the idle timer.
   */
  ready?(): ReadResult | undefined;
  /**
   * While the held chunk is still there: the whole answer when the pod's stream already
   * ended with it (a short answer sent at once; the held chunk is taken), else undefined
   * and the stream goes on, the next read already started (replayed by `read`). Only for
   * relays that read ahead anyway (the direct shape): it reads one chunk early. `last`
   * says whether the held chunk ends with the stream's last event (`[DONE]` and the like):
   * when it does not, nothing is read early (starting a read costs the first write ~10 µs)
   * and the answer is undefined at once, not a promise (no await on a running stream's way).
   */
  ended?(last?: (chunk: Uint8Array) => boolean): Promise<Uint8Array | undefined> | undefined;
  /**
   * The next chunk handed to `waiter.arrived` by the producer itself as it comes (the Bun wire
   * client's socket callback), with no promise or microtask turn per chunk; the end as
   * `arrived(undefined)`, a failure to `broke`. False when it cannot now (a chunk or the end
   * already there, a read pending): `read` then. The direct shape's loop asks it first.
   */
  wait?(waiter: ChunkWaiter): boolean;
  /**
   * The whole body at once when the pod's answer has already ended with all of it queued
   * (taken); undefined otherwise (the Bun wire client's queue: ChunkQueue.whole). The bytes are
   * the caller's alone: what the pod client read off the socket for this call (a fresh buffer
   * a read, or their join), held by nothing else once taken; respond's tap may edit them in
   * place (tappedWhole's `inPlace`).
   */
  whole?(): Uint8Array | undefined;
}

/**
 * A stream that had already ended when its answer was built (`ChunkSource.ended`): what
 * the client gets for it, after the tap, as one array. Bytes instead of a relay: Bun
 * writes the head and the body in one go (Content-Length, no chunked framing), with no
 * stream, pull or close, as for a JSON answer. The same tap calls as the relay makes.
 * `inPlace`: `bytes` are ChunkSource.whole's (the caller's alone): a tap may cut frames out of them.
 */
export function tappedWhole(bytes: Uint8Array, tap: Tap | undefined, inPlace = false): Uint8Array {
  if (!tap) return bytes;
  const all = tap.whole?.(bytes, inPlace);
  if (all !== undefined) return all;
  const out = tap.chunk(bytes);
  const rest = tap.flush();
  // No list made for the usual shapes: the chunk as it came, or its pieces with nothing held back.
  if (rest === undefined || rest.byteLength === 0) {
    if (out instanceof Uint8Array) return out;
    return concatBytes(out ?? NO_PIECES);
  }
  if (out instanceof Uint8Array) return concatBytes([out, rest]);
  return concatBytes(out === undefined ? [rest] : [...out, rest]);
}

const NO_PIECES: readonly Uint8Array[] = [];

/**
 * Pass-through of an upstream body that reads the pod only as fast as the client takes
 * the answer (backpressure reaches the pod), never buffers, and ends exactly once.
 *
 * Two shapes, the same behaviour: on Bun (`direct`, which the Bun entry asks for) a `type: "direct"`
 * stream whose one pull reads the pod and writes each chunk straight to the response
 * (Bun's server flushes it at the end of the tick; a full socket makes `write` a promise,
 * which the loop awaits), so no queue, promise and pull per chunk; elsewhere a standard
 * pull stream with highWaterMark 0 that reads one chunk per pull. The direct shape reads
 * ahead at most what the destination holds (the socket's buffers; ~64 KiB for a reader),
 * and its idle watch runs while the client's side has room and the pod is silent
 * (docs/overhead-streaming.md).
 *
 * The contract every shape keeps (a runtime's own direct stream drives the same `pull`):
 * every chunk passes `tap.chunk` and the end `tap.flush`, in order, and the client gets
 * what they return; `onEnd` runs exactly once ("success" at the pod's end, "error" when a
 * read or the tap fails, "aborted" when the client cancels); a client cancel aborts the
 * pod's request (`abortUpstream`); a pod silent for `idleTimeoutMs` while a read is pending,
 * or shutdown past its grace (`closing`), aborts it too and ends an SSE answer with an error
 * event (`upstream_stream_error`, `shutting_down`) instead of a bare cut.
 */
export function relay(
  upstream: ReadableStream<Uint8Array> | ChunkSource,
  opts: RelayOptions,
): ReadableStream<Uint8Array> {
  const r = new Relay(upstream instanceof ReadableStream ? upstream.getReader() : upstream, opts);
  if (opts.direct) {
    if (typeof opts.direct === "function") return opts.direct(r);
    return new ReadableStream(r as unknown as UnderlyingDefaultSource<Uint8Array>);
  }
  return new ReadableStream<Uint8Array>(
    { pull: (controller) => r.pullStandard(controller), cancel: (reason) => r.cancel(reason) },
    { highWaterMark: 0 },
  );
}

/**
 * One relayed stream's state and steps. A class, not closures over `relay`'s scope (issue 19,
 * nineteenth pass): JSC ages out the code block of a function that its optimized callers run
 * inlined, and the closures it makes after that carry new code; every optimized function that
 * had inlined one of the old ones (the pod client's socket callback calling a stream's
 * `arrived`, the tap's steps) is then thrown away for a dead reference and compiled again,
 * minutes apart for as long as the gateway runs. Methods of a class keep their code.
 * Bun's direct stream takes the instance as its source (`type`, `pull`, `cancel`).
 */
export class Relay implements DirectSource {
  readonly type = "direct";
  ended = false;
  readonly idle: IdleWatch | undefined;
  /** The shutdown subscription (`Closing.watch` of this relay: `abort` below), -1: none. */
  private readonly watching: number;

  constructor(
    readonly reader: ChunkSource,
    readonly opts: RelayOptions,
  ) {
    const idleMs = opts.idleTimeoutMs;
    this.idle = idleMs
      ? new IdleWatch(idleMs, reader, {
          clock: opts.clock ?? systemClock,
          setTimer: opts.setTimer ?? systemTimer,
        })
      : undefined;
    // Shutdown ends a pending read at once; a stream between reads sees it on the next read.
    this.watching = opts.closing?.watch(this) ?? -1;
  }

  /** Shutdown's grace is over (`Closing` calls it): a pending read ends at once. */
  abort(): void {
    void this.reader.cancel(new ShuttingDown()).catch(() => {});
  }

  end(outcome: Outcome, detail?: string): void {
    if (this.ended) return;
    this.ended = true;
    this.idle?.stop();
    if (this.watching >= 0) this.opts.closing!.unwatch(this.watching);
    this.opts.onEnd(outcome, detail);
  }

  /**
   * A read or the tap failed: `send` gets the SSE error event (undefined for any other
   * body: error the stream), then the relay ends as an error.
   */
  fail(err: unknown, send: (event: Uint8Array | undefined) => void): void {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof IdleTimeout || err instanceof ShuttingDown) this.opts.abortUpstream(message);
    send(
      !this.opts.sse
        ? undefined
        : err instanceof ShuttingDown
          ? sseErrorEvent(message, "shutting_down")
          : sseErrorEvent(`The model server's stream broke: ${message}`),
    );
    this.end("error", message);
  }

  cancel(reason?: unknown): Promise<void> {
    this.end("aborted");
    this.opts.abortUpstream("client disconnected");
    return this.reader.cancel(reason).catch(() => {});
  }

  /** attempt's first chunk, sent at the first pull as it is (unless shutdown came first). */
  first(): ReadResult | undefined {
    return this.opts.closing?.closed ? undefined : this.reader.ready?.();
  }

  /**
   * The direct shape's one pull: one read's reaction per chunk, no async frame (each chunk a
   * promise, the read's, or none through `wait`). Settles when the stream ends.
   */
  pull(controller: DirectController): Promise<void> {
    return new Promise<void>((settle) => new DirectLoop(this, controller, settle).start());
  }

  /** The next upstream chunk; throws when the idle watch or shutdown cut the read. */
  private async next(): Promise<ReadResult> {
    // One read, inline: the idle watch counts only while it is pending; a read cancelled
    // by shutdown resolves as done, which is no success.
    const closing = this.opts.closing;
    if (closing?.closed) throw new ShuttingDown();
    const idle = this.idle;
    let r: ReadResult;
    if (idle) {
      idle.waiting(true);
      try {
        r = await this.reader.read();
      } finally {
        idle.waiting(false);
      }
      if (idle.fired) throw new IdleTimeout(this.opts.idleTimeoutMs!);
    } else r = await this.reader.read();
    if (closing?.closed) throw new ShuttingDown();
    return r;
  }

  /** The standard shape's pull: reads until one chunk has bytes for the client (or the end). */
  async pullStandard(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    const tap = this.opts.tap;
    try {
      let ready = this.first();
      for (;;) {
        const { done, value } = ready ?? (await this.next());
        ready = undefined;
        if (done) {
          const rest = tap?.flush();
          if (rest) controller.enqueue(rest);
          controller.close();
          this.end("success");
          return;
        }
        const out = tap ? tap.chunk(value) : value;
        if (out instanceof Uint8Array) {
          if (out.byteLength) {
            controller.enqueue(out);
            return;
          }
        } else if (out !== undefined && out.length > 0) {
          for (const piece of out) controller.enqueue(piece);
          return;
        }
      }
    } catch (err) {
      if (this.ended) return; // cancelled by the client meanwhile
      this.fail(err, (event) => {
        if (event) {
          controller.enqueue(event);
          controller.close();
        } else controller.error(err);
      });
    }
  }
}
