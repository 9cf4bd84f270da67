/**
 * The relay's direct shape (relay.ts): one pull's loop over the pod's chunks (`DirectLoop`),
 * the writes it makes (`send`) and why a stream cut by shutdown ends (`ShuttingDown`). Apart
 * from relay.ts so each file holds one thing; relay.ts re-exports what callers import.
 */
import { IdleTimeout } from "./idle-watch.ts";
import type { ChunkWaiter, Relay } from "./relay.ts";
import type { Pieces } from "./sse-framer.ts";

type ReadResult = Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>["read"]>>;

/** Why a stream cut by shutdown ends: the client should retry elsewhere. */
export const SHUTDOWN_MESSAGE =
  "The gateway is shutting down and its grace period is over; retry the request on another replica.";

export class ShuttingDown extends Error {
  constructor() {
    super(SHUTDOWN_MESSAGE);
  }
}

/** What a direct stream's pull gets (Bun): writes go to the destination, no queue per chunk. */
export interface DirectController {
  /** A number when taken at once; a promise while the destination is full (backpressure). */
  write(bytes: Uint8Array): number | Promise<number>;
  /** Sends what was written now, instead of when Bun gets round to it. */
  flush(): number | Promise<number>;
  close(error?: Error): void;
}

/**
 * Writes `out` (one array or pieces in order) and, with `flush`, sends it at once: Bun's
 * own flush of a direct stream's writes came 90-160 µs later (time to first byte at one
 * connection, same runs: 1.25 → 1.16 ms and 1.47 → 1.31 ms p50). A promise only while the
 * destination is full (its data goes out as room comes: no flush needed then).
 */
export function send(
  controller: DirectController,
  out: Pieces,
  flush: boolean,
): Promise<unknown> | undefined {
  if (out instanceof Uint8Array) {
    if (out.byteLength === 0) return undefined;
    const wrote = controller.write(out);
    if (typeof wrote !== "number") return wrote;
    if (flush) controller.flush();
    return undefined;
  }
  return out === undefined || out.length === 0 ? undefined : sendPieces(controller, out, flush, 0);
}

/**
 * The pieces from `from` on, in order; a promise only once a write is (the destination full),
 * the rest then written as it settles. Taken at once otherwise, as one array is: no async
 * frame, promise or microtask turn for a chunk in pieces (a dropped usage event's, at a
 * stream's end; issue 19, fourteenth pass).
 */
function sendPieces(
  controller: DirectController,
  pieces: readonly Uint8Array[],
  flush: boolean,
  from: number,
): Promise<unknown> | undefined {
  for (let i = from; i < pieces.length; i++) {
    const wrote = controller.write(pieces[i]!);
    if (typeof wrote !== "number") return wrote.then(() => sendPieces(controller, pieces, flush, i + 1));
  }
  if (flush) controller.flush();
  return undefined;
}

/**
 * The direct shape's loop over one pull: a chunk in (`arrived`, from the source's `wait` or a
 * read), through the tap, written (and flushed unless it holds the stream's last event), the
 * next asked for; the end closes the stream. Also the source's waiter (ChunkWaiter).
 */
export class DirectLoop implements ChunkWaiter {
  /** A source that hands chunks over itself (`wait`) is asked first: no promise a chunk. */
  private readonly waits: boolean;
  /** A read's reactions, made at the first read (a source without `wait`), then reused. */
  private reactions: { ok: (r: ReadResult) => void; failed: (err: unknown) => void } | undefined = undefined;

  constructor(
    private readonly relay: Relay,
    private readonly controller: DirectController,
    private readonly settle: () => void,
  ) {
    this.waits = relay.reader.wait !== undefined;
  }

  start(): void {
    const ready = this.relay.first();
    if (ready) this.take(ready.done ? undefined : ready.value);
    else this.readNext();
  }

  /** The next chunk (undefined: the end), from `wait` or a read: checked, then taken. */
  arrived(chunk: Uint8Array | undefined): void {
    // The idle watch counts only while a read is pending; a read cancelled by shutdown
    // resolves as done, which is no success.
    const relay = this.relay;
    const idle = relay.idle;
    if (idle) {
      idle.waiting(false);
      if (idle.fired) {
        this.failed(new IdleTimeout(relay.opts.idleTimeoutMs!));
        return;
      }
    }
    if (relay.opts.closing?.closed) {
      this.failed(new ShuttingDown());
      return;
    }
    this.take(chunk);
  }

  broke(err: unknown): void {
    this.relay.idle?.waiting(false);
    this.failed(err);
  }

  /** A chunk (undefined: the end) to the client: the last bytes go out with the close, not a flush of their own. */
  private take(chunk: Uint8Array | undefined): void {
    const relay = this.relay;
    if (relay.ended) {
      this.settle(); // the client left meanwhile (cancel ran)
      return;
    }
    try {
      const tap = relay.opts.tap;
      const done = chunk === undefined;
      const out = done ? tap?.flush() : tap ? tap.chunk(chunk) : chunk;
      const waiting = send(this.controller, out, !done && !relay.opts.lastEvent?.(chunk));
      if (waiting)
        waiting.then(
          () => (done ? this.finished() : this.readNext()),
          (err: unknown) => this.failed(err),
        );
      else if (done) this.finished();
      else this.readNext();
    } catch (err) {
      this.failed(err);
    }
  }

  private readNext(): void {
    const relay = this.relay;
    if (relay.opts.closing?.closed) {
      this.failed(new ShuttingDown());
      return;
    }
    relay.idle?.waiting(true);
    try {
      const reader = relay.reader;
      if (this.waits && reader.wait!(this)) return;
      this.reactions ??= {
        ok: (r: ReadResult) => this.arrived(r.done ? undefined : r.value),
        failed: (err: unknown) => this.broke(err),
      };
      reader.read().then(this.reactions.ok, this.reactions.failed);
    } catch (err) {
      this.broke(err);
    }
  }

  private finished(): void {
    try {
      this.controller.close();
    } catch (err) {
      this.failed(err);
      return;
    }
    this.relay.end("success");
    this.settle();
  }

  private failed(err: unknown): void {
    const relay = this.relay;
    const controller = this.controller;
    if (!relay.ended)
      relay.fail(err, (event) => {
        if (event) {
          controller.write(event);
          controller.close();
        } else controller.close(err instanceof Error ? err : new Error(String(err)));
      });
    this.settle();
  }
}
