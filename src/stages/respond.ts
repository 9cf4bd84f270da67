/**
 * The answer half of forward (forward.ts): the pod's answer wrapped for the client, read whole
 * (JSON) or relayed (a stream), its accounting tapped and the request's scope ended with it.
 */
import type { Clock, SetTimer } from "../clock.ts";
import type { Endpoint } from "../endpoints/types.ts";
import { GatewayError, shuttingDown } from "../errors.ts";
import type { Closing } from "../lifecycle.ts";
import type { RequestSeries } from "../metrics/request-series.ts";
import type { AfterAnswer } from "../observability/after-answer.ts";
import { endsStreamOf, SseAccounting } from "../proxy/accounting.ts";
import { answerHeaders, HOP_NAMES, SERVED_BY_HEADER } from "../proxy/headers.ts";
import { JsonAccounting } from "../proxy/json-accounting.ts";
import { renameModelInJson } from "../proxy/model-field.ts";
import {
  type ChunkSource,
  type DirectStreams,
  type RelayOptions,
  relay,
  type Tap,
  tappedWhole,
} from "../proxy/relay.ts";
import type { Outcome, RequestScope } from "../scope.ts";
import { AnswerEnd } from "./answer-end.ts";
import type { Exchange } from "./exchange.ts";
import type { ForwardDeps } from "./forward.ts";

const encoder = new TextEncoder();

/**
 * What respond reads: forward's deps, and where the answer's metrics are written (the
 * gateway's AfterAnswer, in forward's deps by the pipeline's spread of GatewayDeps; absent:
 * at once).
 */
export type RespondDeps = ForwardDeps & { afterAnswer?: AfterAnswer };

/** The answer forward hands over, and what respond needs to account for it. */
export interface RespondOptions {
  response: Response;
  controller: AbortController;
  endpoint: Endpoint;
  usageInjected: boolean;
  requestBytes: number;
  series: RequestSeries;
  /** The stream's reader, its first chunk already in (attempt), when there is one. */
  body?: ChunkSource;
  /** The whole body, when it had all come with the head (attempt's `wholeStreams`: Bun; Node's direct bodies). */
  whole?: Uint8Array;
  /** Whether the pod's answers take edits in place (answerHeaders). */
  editable: { ok: boolean };
}

/**
 * Where a pod client's Response offers a body it read whole without a promise
 * (src/runtime/node-upstream-response.ts, WHOLE_BYTES).
 */
const WHOLE_BYTES = Symbol.for("inference-gateway.wholeBytes");
type OffersWhole = { [WHOLE_BYTES]?: () => Uint8Array<ArrayBuffer> | undefined };

/** `answer`'s init object, one for every answer (filled, read by the constructor, emptied). */
const NO_HEADERS = new Headers();
const INIT: { status: number; statusText: string; headers: Headers } = {
  status: 0,
  statusText: "",
  headers: NO_HEADERS,
};

/**
 * Wraps the pod's answer for the client; the relay ends the request scope when the body ends.
 * A JSON answer the pod client read whole is answered at once (no promise: twelfth pass); one
 * whose body is still to read, and a stream, settle later.
 */
export function respond(x: Exchange, deps: RespondDeps, opts: RespondOptions): Response | Promise<Response> {
  const { response: upstream, endpoint } = opts;
  const { settings } = deps.config();
  const scope = x.scope;
  const req = x.inferenceRequest;
  const target = x.targetModel;
  scope.log.endpoint = endpoint.name;
  const isSse = (upstream.headers.get("content-type") ?? "").includes("text/event-stream");
  const renameTo =
    target.target !== req.model && settings.responseModel === "requested" ? req.model : undefined;
  const accounting = isSse
    ? new SseAccounting({
        kind: req.kind,
        clock: deps.clock,
        dropUsageEvent: opts.usageInjected,
        // Fixed shapes, undefined where absent (read alike): no conditional spread per stream.
        renameTo: upstream.ok ? renameTo : undefined,
      })
    : new JsonAccounting(req.kind);
  scope.hold(new AnswerEnd(x, deps, opts, accounting, isSse));
  // The pod's answer headers, edited in place where they may be: one Headers per answer.
  const out = answerHeaders(
    upstream.headers,
    opts.editable,
    (upstream as { [HOP_NAMES]?: readonly string[] })[HOP_NAMES],
  );
  out.set("x-gateway-target-model", target.target);
  x.servedBy = endpoint.address;
  if (settings.endpointServedHeader) out.set(SERVED_BY_HEADER, endpoint.address);
  // Plugins' response hooks, once, with the endpoint that served (session affinity adds its header).
  x.lifecycle?.responseReceived(endpoint, { status: upstream.status, headers: out });
  // The request id the pipeline would set last, set here instead: the pipeline sees it is
  // there (x.idSetOn) and does not fetch the answer's headers again to set it.
  out.set("x-request-id", x.requestId);
  // Every byte came with the head (attempt's `wholeStreams`: Bun; Node's direct bodies): a stream goes out as bytes
  // after the tap, as an ended one does below; a body of any other type as a whole answer.
  const whole = opts.whole;
  if (whole !== undefined) {
    if (!isSse) return answerWhole(x, upstream, out, whole as Uint8Array<ArrayBuffer>, accounting, renameTo);
    // The pod client's own copy (ChunkSource.whole): a dropped usage frame is cut out in place.
    x.idSetOn = answer(
      tappedWhole(whole, tapOf(x, accounting), true) as Uint8Array<ArrayBuffer>,
      upstream,
      out,
    );
    return x.idSetOn;
  }
  // opts.body first: an answer whose chunks attempt took builds no web stream for `body` (Node).
  const body = isSse ? (opts.body ?? upstream.body) : null;
  if (!body) {
    // A non-streamed answer arrives whole (pods send it when generation is done): read it
    // as bytes and answer with bytes. No stream to relay, and the scope ends right here.
    // The gateway's pod clients have its bytes already: taken at once, no promise (a gateway
    // shutting down past its grace still gets readWhole's 503).
    const closing = deps.lifecycle?.closing;
    const bytes = closing?.closed ? undefined : (upstream as OffersWhole)[WHOLE_BYTES]?.();
    if (bytes !== undefined) return answerWhole(x, upstream, out, bytes, accounting, renameTo);
    return answerRead(x, opts, out, accounting, renameTo, closing);
  }
  const tap = tapOf(x, accounting);
  // Bun: a stream that had ended with its first chunk (a short answer sent at once) goes out
  // as bytes, like a JSON answer; the scope ends as the pipeline closes (not streaming).
  if (deps.directStreams === true && opts.body?.ended && !deps.lifecycle?.closing?.closed) {
    const ended = opts.body.ended(endsStreamOf(req.kind));
    if (ended)
      return answerEnded(x, deps, opts, {
        ended,
        body,
        tap,
        headers: out,
        idleTimeoutMs: settings.upstream.idleTimeoutMs,
      });
  }
  return relayed(x, deps, opts, body, tap, out, settings.upstream.idleTimeoutMs);
}

/*
 * The two answers that settle later, each in a function of its own: `respond` itself then
 * makes no closure, so no scope of its own is kept per request (issue 19, fourteenth pass).
 */

/** A JSON answer whose body is still to read: read whole, then answered. */
function answerRead(
  x: Exchange,
  opts: RespondOptions,
  headers: Headers,
  accounting: JsonAccounting | SseAccounting,
  renameTo: string | undefined,
  closing: Closing | undefined,
): Promise<Response> {
  const upstream = opts.response;
  return readWhole(x, upstream, opts.controller, closing).then((read) =>
    answerWhole(x, upstream, headers, read, accounting, renameTo),
  );
}

/** A stream asked whether it had ended with its first chunk: bytes if it had, else relayed. */
function answerEnded(
  x: Exchange,
  deps: RespondDeps,
  opts: RespondOptions,
  s: {
    ended: Promise<Uint8Array | undefined>;
    body: ChunkSource | ReadableStream<Uint8Array>;
    tap: Tap;
    headers: Headers;
    idleTimeoutMs: number;
  },
): Promise<Response> {
  return s.ended.then((all) => {
    if (!all) return relayed(x, deps, opts, s.body, s.tap, s.headers, s.idleTimeoutMs);
    x.idSetOn = answer(tappedWhole(all, s.tap) as Uint8Array<ArrayBuffer>, opts.response, s.headers);
    return x.idSetOn;
  });
}

/** A whole answer's Response: its usage kept for the request's end, the model renamed if asked. */
function answerWhole(
  x: Exchange,
  upstream: Response,
  headers: Headers,
  read: Uint8Array<ArrayBuffer>,
  accounting: JsonAccounting | SseAccounting,
  renameTo: string | undefined,
): Response {
  let bytes = read;
  if (upstream.ok) {
    // Its usage is read at the request's end (AnswerEnd), after the answer has left when the
    // gateway defers its records: the answer does not wait for a JSON parse it does not need.
    accounting.chunk(bytes);
    if (renameTo !== undefined)
      bytes = encoder.encode(renameModelInJson(new TextDecoder().decode(bytes), renameTo));
  }
  x.idSetOn = answer(bytes, upstream, headers);
  return x.idSetOn;
}

/**
 * The client's Response: the pod's status and status text, `headers`. One init object for every
 * answer: the constructor reads it at once and nothing keeps it (thirteenth pass).
 */
function answer(body: BodyInit | null, upstream: Response, headers: Headers): Response {
  INIT.status = upstream.status;
  INIT.statusText = upstream.statusText;
  INIT.headers = headers;
  try {
    return new Response(body, INIT);
  } finally {
    INIT.headers = NO_HEADERS;
  }
}

/** A stream relayed chunk by chunk to the client; the relay ends the scope when it ends. */
function relayed(
  x: Exchange,
  deps: RespondDeps,
  opts: RespondOptions,
  body: ChunkSource | ReadableStream<Uint8Array>,
  tap: Tap,
  headers: Headers,
  idleTimeoutMs: number,
): Response {
  const upstream = opts.response;
  x.scope.streaming = true;
  const stream = relay(body, new RelayedStream(x, deps, opts, tap, idleTimeoutMs));
  x.idSetOn = answer(stream, upstream, headers);
  return x.idSetOn;
}

/**
 * A relayed stream's options, one object a stream whose `onEnd` and `abortUpstream` are
 * methods: closures made per stream and called from the relay's optimized code get that code
 * thrown away by JSC whenever the function that made them ages out (src/proxy/relay.ts).
 */
class RelayedStream implements RelayOptions {
  readonly sse = true;
  readonly clock: Clock;
  readonly closing: Closing | undefined;
  readonly setTimer: SetTimer | undefined;
  readonly direct: DirectStreams | undefined;
  /**
   * The chunk with the last event goes out with the close (one write fewer per stream). Not
   * for the Responses API: its check scans whole chunks (~0.8 µs each), more than it saves.
   */
  readonly lastEvent: ((chunk: Uint8Array) => boolean) | undefined;
  private readonly scope: RequestScope;
  private readonly status: number;
  private readonly controller: AbortController;

  constructor(
    x: Exchange,
    deps: RespondDeps,
    opts: RespondOptions,
    readonly tap: Tap,
    readonly idleTimeoutMs: number,
  ) {
    const kind = x.inferenceRequest.kind;
    this.clock = deps.clock;
    this.closing = deps.lifecycle?.closing;
    this.setTimer = deps.setTimer;
    this.direct = deps.directStreams;
    this.lastEvent = kind === "responses" ? undefined : endsStreamOf(kind);
    this.scope = x.scope;
    this.status = opts.response.status;
    this.controller = opts.controller;
  }

  onEnd(outcome: Outcome, detail?: string): void {
    if (outcome === "error") this.scope.log.error = detail;
    this.scope.end(this.status >= 400 && outcome === "success" ? "error" : outcome);
  }

  abortUpstream(reason: string): void {
    this.controller.abort(new Error(reason));
  }
}

/** Plugins' ResponseStreaming hooks see each chunk the client gets; no wrapper when none has one. */
function tapOf(x: Exchange, accounting: Tap): Tap {
  const streamed = x.lifecycle?.responseStreaming;
  return streamed ? tapped(accounting, streamed) : accounting;
}

/** `tap`, also handing every chunk it lets through to `seen` (the plugins' ResponseStreaming). */
function tapped(tap: Tap, seen: (bytes: Uint8Array) => void): Tap {
  return {
    chunk(bytes) {
      const out = tap.chunk(bytes);
      if (out instanceof Uint8Array) {
        if (out.byteLength) seen(out);
      } else if (out !== undefined) for (const piece of out) seen(piece);
      return out;
    },
    flush() {
      const out = tap.flush();
      if (out?.byteLength) seen(out);
      return out;
    },
  };
}

/**
 * Reads a whole upstream body; a client that leaves meanwhile aborts it (499), a pod that
 * breaks gives 502, a shutdown past its grace gives 503 (no header was sent yet).
 */
async function readWhole(
  x: Exchange,
  upstream: Response,
  controller: AbortController,
  closing: Closing | undefined,
): Promise<Uint8Array<ArrayBuffer>> {
  // Aborted with Error("shutting down") when shutdown stops waiting (no closure per request).
  const watching = closing?.watch(controller);
  try {
    if (closing?.closed) throw new Error("shutting down");
    // `bytes()` where the answer has it (the gateway's pod clients hand over the bytes they
    // read without the copy `arrayBuffer()` makes of them; eleventh pass).
    return typeof upstream.bytes === "function"
      ? ((await upstream.bytes()) as Uint8Array<ArrayBuffer>)
      : new Uint8Array(await upstream.arrayBuffer());
  } catch (err) {
    controller.abort();
    if (x.signal.aborted) throw clientGone();
    if (closing?.closed) throw graceOver();
    x.scope.log.error = err instanceof Error ? err.message : String(err);
    throw new GatewayError({
      status: 502,
      message: "The model server's answer broke off before it was complete.",
      code: "upstream_response_incomplete",
    });
  } finally {
    if (watching !== undefined) closing!.unwatch(watching);
  }
}

/** What a request still running when shutdown stops waiting gets, if no header was sent yet. */
export function graceOver(): GatewayError {
  return shuttingDown("The gateway is shutting down and its grace period is over; retry on another replica.");
}

export function clientGone(): GatewayError {
  return new GatewayError({
    status: 499,
    message: "The client closed the request before it was answered.",
    code: "client_closed_request",
    droppedReason: "rejected-context-cancelled",
  });
}
