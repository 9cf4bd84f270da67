import { type Armed, arm, disarm, type SetTimer, systemTimer } from "../clock.ts";
import type { FetchFn } from "../deps.ts";
import type { Closing } from "../lifecycle.ts";
import type { PodHead } from "./pod-head.ts";
import type { ChunkSource, ChunkWaiter } from "./relay.ts";

export type AttemptResult =
  | {
      kind: "response";
      response: Response;
      controller: AbortController;
      /**
       * An event stream whose first chunk is already in: read the body from here (the
       * first read replays that chunk), not from `response.body`, which is locked.
       */
      body?: ChunkSource;
      /** The whole body, when it had all come with the answer's head (`wholeStreams`). */
      whole?: Uint8Array;
    }
  /** Worth trying the next endpoint: refused, reset, timed out, or a retryOn status before any byte. */
  | {
      kind: "retryable";
      reason: string;
      status?: number;
      response?: Response;
      /** The pod answered, but its body could not be read (broken, corrupt encoding): a 502 if nothing else answers. */
      broken?: boolean;
    }
  /** The client left: stop. */
  | { kind: "client-gone" }
  /** The gateway is shutting down past its grace period: answer 503, try nothing else. */
  | { kind: "shutdown" };

/**
 * What attempt reads of the client's signal: an AbortSignal, or a runtime's lighter
 * equivalent that aborts with the same reason (Node: a LightAbortSignal from the request,
 * src/runtime/node-request.ts), so a client that stays costs no platform AbortSignal.
 */
export interface ClientSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: "abort", listener: () => void): void;
  removeEventListener(type: "abort", listener: () => void): void;
  /** A platform AbortSignal's handler slot (null when free); absent on a runtime's lighter signal. */
  onabort?: ((this: never, ev: never) => unknown) | null;
}

export interface AttemptOptions {
  fetch: FetchFn;
  url: string;
  /** The pod request's headers; a PodHead only for a fetch that offers to take one (POD_HEAD). */
  headers: Headers | PodHead;
  body: Uint8Array<ArrayBuffer>;
  /** The client's signal: an AbortSignal, or what the Exchange prefers for this (Exchange.clientSignal). */
  clientSignal: ClientSignal;
  /** Time to the pod's response headers. */
  responseTimeoutMs: number;
  /**
   * Streams: time to the first body byte too (headers alone do not count: a hung pod may
   * have sent them). Until that byte arrives the client has nothing, so another endpoint
   * can still be tried.
   */
  firstByteTimeoutMs?: number;
  /** Pod statuses worth another endpoint (default 503 only). */
  retryOn?: readonly number[];
  /** Aborted when the gateway stops waiting for running requests. */
  closing?: Closing;
  setTimer?: SetTimer;
  /**
   * A streamed answer that had all come with its head is handed over whole (`whole`), with
   * no first-chunk read: for a caller that answers such a stream as bytes (Bun's direct streams).
   */
  wholeStreams?: boolean;
}

type ReadResult = Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>["read"]>>;

class AttemptTimeout extends Error {}

const EMPTY = new Uint8Array(0);
/** Microtask turns `ended` gives a read to settle (a body already in whole: two under Bun 1.4). */
const ENDED_TURNS = 3;

const RETRY_ON: readonly number[] = [503];

/**
 * Where a runtime's upstream Response may offer its body as its chunks, with no web stream
 * (Node: src/runtime/node-chunks.ts); their reads fail once the call's signal aborts.
 */
const CHUNK_SOURCE = Symbol.for("inference-gateway.chunkSource");
const ownChunks = (res: Response) =>
  (res as { [CHUNK_SOURCE]?: () => ChunkSource | undefined })[CHUNK_SOURCE]?.();

/**
 * A runtime's fetch may offer its own, lighter AbortController for the calls made through it
 * (Node: src/runtime/node-abort.ts, no platform AbortSignal per attempt); only that fetch and
 * this module's callers (abort, `signal.aborted`, `signal.reason`, 'abort' listeners) see it.
 */
const ABORT_CONTROLLER = Symbol.for("inference-gateway.abortController");
const offeredController = (fetch: FetchFn) =>
  (fetch as { [ABORT_CONTROLLER]?: () => AbortController })[ABORT_CONTROLLER]?.();

/**
 * One try at one endpoint: POST and wait for the response headers (and, for streams, the
 * first body byte). A status in `retryOn` counts as retryable (the caller passes it
 * through when no endpoint is left); its body is kept so it can be shown then.
 */
export async function attempt(opts: AttemptOptions): Promise<AttemptResult> {
  const controller = offeredController(opts.fetch) ?? new AbortController();
  const limit = opts.firstByteTimeoutMs
    ? Math.min(opts.firstByteTimeoutMs, opts.responseTimeoutMs)
    : opts.responseTimeoutMs;
  const what = opts.firstByteTimeoutMs ? "first byte" : "response";
  // One controller for the pod's request, aborted by the client's signal too (for as long as
  // the answer is read). AbortSignal.any costs 3-16 µs a call under Node 20 (weak refs and a
  // FinalizationRegistry); a listener costs next to nothing.
  const client = opts.clientSignal;
  // One function for both watches (twelfth pass: a closure an attempt fewer): the client's
  // signal calls it with its abort event, the timer with nothing.
  const onClientGone = (event?: unknown) =>
    controller.abort(event === undefined ? new AttemptTimeout() : client.reason);
  // A client already gone: the call is made aborted (it fails at once; the pod gets nothing).
  const gone = client.aborted;
  if (gone) controller.abort(client.reason);
  // A platform signal whose `onabort` slot is free takes the watch there: Bun hooks a request's
  // signal up for less than an 'abort' listener costs (issue 19, eleventh pass). Same call, same
  // order among its listeners; a slot someone holds (or a lighter signal) gets the listener.
  const slot = !gone && client.onabort === null;
  let timer: Armed | undefined;
  /** The shutdown watch's number (Closing.watch), -1 when none. */
  let watching = -1;
  let answered = false;
  const signal = controller.signal;
  try {
    if (opts.closing?.closed) return { kind: "shutdown" };
    const call = opts.fetch(opts.url, {
      method: "POST",
      // A PodHead is a HeadersInit too (its pairs), for any fetch handed one by mistake.
      headers: opts.headers as HeadersInit,
      body: opts.body,
      signal,
    });
    // The watches on the call (its timer, shutdown, the client leaving) are set right after
    // it went out, in the same turn: nothing can fire or abort in between, and the pod has
    // the request one timer and one listener sooner (issue 19, seventh pass: the work before
    // the pod call is what the first byte waits for).
    timer = arm(opts.setTimer ?? systemTimer, onClientGone, limit);
    // Shutdown aborts the controller itself (with Error("shutting down"), as the closure given to
    // `onClose` did): no abort closure and no unsubscribe closure an attempt (ninth pass).
    if (opts.closing !== undefined) watching = opts.closing.watch(controller);
    // No `{ once: true }`: a signal aborts once anyway, and the options object costs Bun
    // 0.2-0.3 µs a call (more under GC pressure).
    if (slot) client.onabort = onClientGone;
    else if (!gone) client.addEventListener("abort", onClientGone);
    let response = await call;
    if ((opts.retryOn ?? RETRY_ON).includes(response.status))
      return {
        kind: "retryable",
        reason: `${response.status} from the model server`,
        status: response.status,
        response,
      };
    let body: ChunkSource | undefined;
    const chunks = opts.firstByteTimeoutMs && response.ok ? ownChunks(response) : undefined;
    // All of it came with the head (a short stream sent at once): no first chunk to wait for.
    const whole = opts.wholeStreams === true ? chunks?.whole?.() : undefined;
    if (whole !== undefined) {
      answered = true;
      return { kind: "response", response, controller, whole };
    }
    if (opts.firstByteTimeoutMs && response.ok && (chunks || response.body)) {
      try {
        const read = await withFirstChunk(response, signal, chunks);
        if ("read" in read) body = read;
        else response = read;
      } catch (err) {
        if (signal.aborted) throw err;
        const why = err instanceof Error ? err.message : String(err);
        return { kind: "retryable", reason: `its answer could not be read (${why})`, broken: true };
      }
    }
    answered = true;
    return body
      ? { kind: "response", response, controller, body }
      : { kind: "response", response, controller };
  } catch (err) {
    if (opts.clientSignal.aborted) return { kind: "client-gone" };
    if (opts.closing?.closed) return { kind: "shutdown" };
    if (controller.signal.reason instanceof AttemptTimeout)
      return { kind: "retryable", reason: `no ${what} within ${limit} ms` };
    return { kind: "retryable", reason: err instanceof Error ? err.message : String(err) };
  } finally {
    if (timer !== undefined) disarm(timer);
    if (watching !== -1) opts.closing!.unwatch(watching);
    if (!answered && !gone) {
      if (!slot) client.removeEventListener("abort", onClientGone);
      else if (client.onabort === onClientGone) client.onabort = null;
    }
  }
}

/**
 * Waits for the first body chunk (or the end), then returns what replays it and reads the
 * rest only as the client pulls (no read-ahead): for an event stream the reader itself (the
 * relay reads it directly), for any other body a response over a replaying stream. An
 * abort of `signal` while waiting cancels the body and throws.
 */
function withFirstChunk(
  response: Response,
  signal: AbortSignal,
  chunks: ChunkSource | undefined,
): Promise<Response | ChunkSource> {
  // The runtime's own chunks fail on the signal already (no listener: ~8 µs under Node 20,
  // and no closure made for it: fourteenth pass). No async function either: its body is code
  // that JSC ages out under its optimized callers (attempt), which are then thrown away and
  // compiled again (src/proxy/relay.ts, nineteenth pass).
  if (chunks) return chunks.read().then((first) => afterFirst(response, signal, chunks, first));
  return withFirstChunkOf(response, signal);
}

/** withFirstChunk for a web stream body: its reader cancelled if `signal` aborts while it waits. */
async function withFirstChunkOf(response: Response, signal: AbortSignal): Promise<Response | ChunkSource> {
  const reader: ChunkSource = response.body!.getReader();
  const onAbort = () => void reader.cancel(signal.reason).catch(() => {});
  signal.addEventListener("abort", onAbort);
  let first: ReadResult;
  try {
    first = await reader.read();
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  return afterFirst(response, signal, reader, first);
}

/** What replays `first` (read off `reader`) and reads the rest as the client pulls. */
function afterFirst(
  response: Response,
  signal: AbortSignal,
  reader: ChunkSource,
  first: ReadResult,
): Response | ChunkSource {
  if (signal.aborted) throw signal.reason;
  // An event stream: the reader itself with its first chunk held (the relay reads it directly).
  if ((response.headers.get("content-type") ?? "").includes("text/event-stream"))
    return new HeldFirst(reader, first);
  let pending: ReadResult | undefined = first;
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        const r = pending ?? (await reader.read());
        pending = undefined;
        if (r.done) c.close();
        else c.enqueue(r.value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

/**
 * An event stream's source with its first chunk held (attempt waited for it): the first read
 * replays it, and what the relay asks of a source (`ready`, `ended`, `wait`) answers from it.
 * One object a stream, its state in fields (issue 19, fourteenth pass: it was an object of
 * five closures and the scope they shared).
 */
class HeldFirst implements ChunkSource {
  /** The read `ended` started, replayed by the next `read`. */
  private ahead: Promise<ReadResult> | undefined = undefined;

  constructor(
    private readonly reader: ChunkSource,
    private pending: ReadResult | undefined,
  ) {}

  read(): Promise<ReadResult> {
    const r = this.pending;
    this.pending = undefined;
    if (r) return Promise.resolve(r);
    const a = this.ahead;
    this.ahead = undefined;
    return a ?? this.reader.read();
  }

  ready(): ReadResult | undefined {
    const r = this.pending;
    this.pending = undefined;
    return r;
  }

  ended(last?: (chunk: Uint8Array) => boolean): Promise<Uint8Array | undefined> | undefined {
    const held = this.pending;
    if (!held || this.ahead) return undefined;
    if (held.done) {
      this.pending = undefined;
      return Promise.resolve(EMPTY);
    }
    if (last && !last(held.value)) return undefined;
    return this.settlesDone(held);
  }

  // The relay's direct loop may take the next chunk handed over by the pod client's queue
  // (Bun's wire client: ChunkQueue.wait), once nothing is held or read ahead here.
  wait(waiter: ChunkWaiter): boolean {
    return this.pending === undefined && this.ahead === undefined && this.reader.wait?.(waiter) === true;
  }

  cancel(reason?: unknown): Promise<void> {
    return this.reader.cancel(reason);
  }

  /** The held chunk when the read after it settles as the end within ENDED_TURNS; else the read is kept. */
  private async settlesDone(held: ReadResult & { done: false }): Promise<Uint8Array | undefined> {
    let next: ReadResult | undefined;
    const read = this.reader.read();
    read.then(
      (r) => {
        next = r;
      },
      () => {},
    );
    // A body already in whole has its end queued: the read settles within these turns
    // (Bun 1.4: two). Later, or a read that fails: the stream goes on as usual.
    for (let i = 0; i < ENDED_TURNS && next === undefined; i++) await null;
    if (next?.done && this.pending === held) {
      this.pending = undefined;
      return held.value;
    }
    this.ahead = read;
    return undefined;
  }
}
