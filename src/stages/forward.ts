import type { Clock, SetTimer } from "../clock.ts";
import type { GatewayConfig } from "../config/load.ts";
import type { FetchFn } from "../deps.ts";
import type { PassiveHealth } from "../endpoints/health.ts";
import type { InFlight } from "../endpoints/inflight.ts";
import type { Endpoint } from "../endpoints/types.ts";
import { GatewayError, shuttingDown } from "../errors.ts";
import type { Closing } from "../lifecycle.ts";
import type { Logger } from "../log.ts";
import type { GatewayMetrics } from "../metrics/gateway-metrics.ts";
import type { RequestSeries } from "../metrics/request-series.ts";
import { type AccountingResult, endsStream, JsonAccounting, SseAccounting } from "../proxy/accounting.ts";
import { attempt } from "../proxy/attempt.ts";
import { answerHeaders, upstreamHeaders } from "../proxy/headers.ts";
import { renameModelInJson, spliceRequestBody } from "../proxy/model-field.ts";
import { multipartWithModel } from "../proxy/multipart-model.ts";
import { recordAnswer } from "../proxy/record.ts";
import { type ChunkSource, type DirectStreams, relay, type Tap, tappedWhole } from "../proxy/relay.ts";
import type { InferenceRequest, TargetModel } from "../request.ts";
import type { Outcome, Releasable } from "../scope.ts";
import type { Exchange } from "./exchange.ts";

const encoder = new TextEncoder();

export interface ForwardDeps {
  config: () => GatewayConfig;
  fetch: FetchFn;
  inflight: InFlight;
  health: PassiveHealth;
  metrics: GatewayMetrics;
  logger: Logger;
  clock: Clock;
  /** Timers for attempts and relays (fake in tests); real timers when absent. */
  setTimer?: SetTimer;
  /** Streamed answers as the runtime's direct streams (GatewayOptions.directStreams). */
  directStreams?: DirectStreams;
  /** `closing` fires when shutdown stops waiting: running requests then end with a 503 or an SSE error event. */
  lifecycle?: { closing?: Closing };
  /**
   * Called once per answered request when it ends well, with the endpoint that served and
   * what accounting read: e.g. `result.responseId` (Responses API), so a later request's
   * `previous_response_id` can be sent to the pod that holds it.
   */
  onAnswered?: (answer: { request: InferenceRequest; endpoint: Endpoint; result: AccountingResult }) => void;
}

/** Routes whose streams take `stream_options.include_usage` (OpenAI chunks); the others report usage unasked. */
const USAGE_OPTION_KINDS: ReadonlySet<string> = new Set(["chat", "completions"]);

const STREAM_OPTIONS_FIRST = encoder.encode('{"stream_options":{"include_usage":true},');

/**
 * What the pod gets: the client's bytes as they came, unless the model was rewritten
 * or a stream did not ask for usage (the gateway asks for it, to account tokens, and
 * drops that event from what the client sees). The new name and a missing `stream_options`
 * are spliced into the client's bytes (spliceRequestBody), not re-serialised; a multipart
 * body (transcriptions) has its `model` part replaced in place.
 */
export function upstreamBody(
  req: InferenceRequest,
  target: TargetModel,
): { bytes: Uint8Array<ArrayBuffer>; usageInjected: boolean } {
  const streamOptions = req.body["stream_options"] as { include_usage?: boolean } | null | undefined;
  const usageInjected =
    req.stream && USAGE_OPTION_KINDS.has(req.kind) && streamOptions?.include_usage !== true;
  const renamed = target.target !== req.model;
  if (!renamed && !usageInjected) return { bytes: req.bytes, usageInjected };
  if (req.kind === "transcriptions")
    return {
      bytes: renamed ? multipartWithModel(req.bytes, target.target) : req.bytes,
      usageInjected: false,
    };
  // The new name and/or the usage option spliced into the client's bytes (one copy). Only a
  // stream_options the client sent without include_usage: true needs the body re-serialised.
  if (!usageInjected || streamOptions === undefined) {
    const spliced = spliceRequestBody(
      req.bytes,
      renamed ? target.target : undefined,
      usageInjected ? STREAM_OPTIONS_FIRST : undefined,
    );
    if (spliced) return { bytes: spliced, usageInjected };
  }
  const body: Record<string, unknown> = { ...req.body, model: target.target };
  if (usageInjected) body["stream_options"] = { ...streamOptions, include_usage: true };
  return { bytes: encoder.encode(JSON.stringify(body)), usageInjected };
}

/**
 * The last stage: tries the scheduled endpoints in order (primary, then fallbacks)
 * while an attempt fails before any byte (refused, timed out, a `retryOn` status such as
 * 500 or 503, or, for streams, no first byte within `firstByteTimeoutMs`), then streams
 * the answer back untouched. Nothing is retried once the client got a byte.
 */
export function forward(deps: ForwardDeps) {
  /** Whether this fetch's answers take edits (answerHeaders): false after the first refusal. */
  const editable = { ok: true };
  return async function forwardStage(x: Exchange): Promise<Response> {
    const req = x.inferenceRequest;
    const target = x.targetModel;
    const { settings } = deps.config();
    const { bytes, usageInjected } = upstreamBody(req, target);
    const headers = upstreamHeaders(x.headers, {
      forwardAuthorization: settings.upstream.forwardAuthorization,
    });
    headers.set(
      "content-type",
      req.kind === "transcriptions"
        ? (x.headers.get("content-type") ?? "multipart/form-data")
        : "application/json",
    );
    headers.set("x-request-id", x.requestId);
    const credential = settings.upstream.credential;
    if (credential?.value) headers.set(credential.header, credential.value);

    const attempts = x.endpoints.slice(0, settings.upstream.maxAttempts);
    const closing = deps.lifecycle?.closing;
    let series: RequestSeries | undefined;
    if (attempts.length === 0) series = started(x, deps);
    let last: { reason: string; response?: Response; broken?: boolean } = { reason: "no endpoint tried" };
    for (let i = 0; i < attempts.length; i++) {
      const endpoint = attempts[i]!;
      // One object of one shape per attempt (no spreads: attempt reads absent and undefined alike).
      // attempt runs up to the pod call before it returns: what follows here, in the same
      // turn, is counted as before (nothing else runs in between) but no longer delays the call.
      const pending = attempt({
        fetch: deps.fetch,
        url: `http://${endpoint.address}${req.path}`,
        headers,
        body: bytes,
        clientSignal: x.clientSignal,
        responseTimeoutMs: settings.upstream.responseTimeoutMs,
        firstByteTimeoutMs: req.stream ? settings.upstream.firstByteTimeoutMs : undefined,
        retryOn: settings.upstream.retryOn,
        closing,
        setTimer: deps.setTimer,
      });
      series ??= started(x, deps);
      const slot = deps.inflight.acquire(endpoint.name);
      const result = await pending;
      if (result.kind === "client-gone") {
        slot.release();
        throw clientGone();
      }
      if (result.kind === "shutdown") {
        slot.release();
        throw graceOver();
      }
      if (result.kind === "retryable") {
        slot.release();
        deps.health.failure(endpoint.name, result.reason);
        if (i < attempts.length - 1) await result.response?.body?.cancel().catch(() => {});
        last = result;
        deps.logger.warn("endpoint failed before answering", {
          requestId: x.requestId,
          endpoint: endpoint.name,
          reason: result.reason,
          nextTry: i < attempts.length - 1,
        });
        continue;
      }
      if (result.response.status >= 500) deps.health.failure(endpoint.name, `HTTP ${result.response.status}`);
      else deps.health.success(endpoint.name);
      x.scope.hold(slot);
      return respond(x, deps, {
        response: result.response,
        controller: result.controller,
        endpoint,
        usageInjected,
        requestBytes: bytes.byteLength,
        series,
        body: result.body,
        editable,
      });
    }
    // Every endpoint refused: a last 503 passes through as the pod said it; else our own 503.
    if (last.response)
      return respond(x, deps, {
        response: last.response,
        controller: new AbortController(),
        endpoint: attempts.at(-1)!,
        usageInjected,
        requestBytes: bytes.byteLength,
        series: series!, // set: a response means an attempt was made
        editable,
      });
    if (last.broken)
      throw new GatewayError({
        status: 502,
        message: `The model server answered, but ${last.reason}; ${attempts.length} endpoint(s) tried.`,
        code: "upstream_bad_response",
      });
    throw new GatewayError({
      status: 503,
      message: `No endpoint could answer (${attempts.length} tried): ${last.reason}.`,
      code: "upstream_unreachable",
    });
  };
}

/**
 * The request's series, counted running from its dispatch to the pod until the request ends,
 * as GIE counts it (a pod sends a non-streamed answer's headers only when it is done, so
 * counting then reads far low).
 */
function started(x: Exchange, deps: ForwardDeps): RequestSeries {
  const req = x.inferenceRequest;
  const series = deps.metrics.series(
    req.model,
    x.targetModel.target,
    req.fairnessId,
    x.admission?.priority ?? 0,
  );
  x.series = series;
  x.seriesFor = x.targetModel;
  series.started();
  x.scope.hold(series.running);
  return series;
}

/** Wraps the pod's answer for the client; the relay ends the request scope when the body ends. */
async function respond(
  x: Exchange,
  deps: ForwardDeps,
  opts: {
    response: Response;
    controller: AbortController;
    endpoint: Endpoint;
    usageInjected: boolean;
    requestBytes: number;
    series: RequestSeries;
    /** The stream's reader, its first chunk already in (attempt), when there is one. */
    body?: ChunkSource;
    /** Whether the pod's answers take edits in place (answerHeaders). */
    editable: { ok: boolean };
  },
): Promise<Response> {
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
        now: () => deps.clock.now(),
        dropUsageEvent: opts.usageInjected,
        // Fixed shapes, undefined where absent (read alike): no conditional spread per stream.
        renameTo: upstream.ok ? renameTo : undefined,
      })
    : new JsonAccounting(req.kind);
  scope.hold(new AnswerEnd(x, deps, opts, accounting, isSse));
  // The pod's answer headers, edited in place where they may be: one Headers per answer.
  const out = answerHeaders(upstream.headers, opts.editable);
  out.set("x-gateway-target-model", target.target);
  out.set("x-gateway-destination-endpoint-served", endpoint.address);
  // Plugins' response hooks, once, with the endpoint that served (session affinity adds its header).
  x.lifecycle?.responseReceived(endpoint, { status: upstream.status, headers: out });
  // The request id the pipeline would set last, set here instead: the pipeline sees it is
  // there (x.idSetOn) and does not fetch the answer's headers again to set it.
  out.set("x-request-id", x.requestId);
  const init = { status: upstream.status, statusText: upstream.statusText, headers: out };
  // opts.body first: an answer whose chunks attempt took builds no web stream for `body` (Node).
  const body = isSse ? (opts.body ?? upstream.body) : null;
  if (!body) {
    // A non-streamed answer arrives whole (pods send it when generation is done): read it
    // as bytes and answer with bytes. No stream to relay, and the scope ends right here.
    let bytes = await readWhole(x, upstream, opts.controller, deps.lifecycle?.closing);
    if (upstream.ok) {
      accounting.chunk(bytes);
      accounting.flush();
      if (renameTo !== undefined)
        bytes = encoder.encode(renameModelInJson(new TextDecoder().decode(bytes), renameTo));
    }
    x.idSetOn = new Response(bytes, init);
    return x.idSetOn;
  }
  const streamed = x.lifecycle?.responseStreaming;
  // Plugins' ResponseStreaming hooks see each chunk the client gets; no wrapper when none has one.
  const tap = streamed ? tapped(accounting, streamed) : accounting;
  // Bun: a stream that had ended with its first chunk (a short answer sent at once) goes out
  // as bytes, like a JSON answer; the scope ends as the pipeline closes (not streaming).
  if (deps.directStreams === true && opts.body?.ended && !deps.lifecycle?.closing?.closed) {
    const ended = opts.body.ended((chunk) => endsStream(req.kind, chunk));
    const whole = ended && (await ended);
    if (whole) {
      x.idSetOn = new Response(tappedWhole(whole, tap) as Uint8Array<ArrayBuffer>, init);
      return x.idSetOn;
    }
  }
  scope.streaming = true;
  const relayed = relay(body, {
    sse: true,
    tap,
    idleTimeoutMs: settings.upstream.idleTimeoutMs,
    clock: deps.clock,
    closing: deps.lifecycle?.closing,
    setTimer: deps.setTimer,
    direct: deps.directStreams,
    // The chunk with the last event goes out with the close (one write fewer per stream).
    // Not for the Responses API: its check scans whole chunks (~0.8 µs each), more than it saves.
    lastEvent: req.kind === "responses" ? undefined : (chunk) => endsStream(req.kind, chunk),
    onEnd: (outcome, detail) => {
      if (outcome === "error") scope.log.error = detail;
      scope.end(upstream.status >= 400 && outcome === "success" ? "error" : outcome);
    },
    abortUpstream: (reason) => opts.controller.abort(new Error(reason)),
  });
  x.idSetOn = new Response(relayed, init);
  return x.idSetOn;
}

/**
 * What the scope holds to note the answer's tokens and TTFT and record its metrics at the
 * request's end: one object, not an object, a closure and its scope per request (issue 19,
 * sixth pass). Positional: an options object would be one more allocation per request.
 */
class AnswerEnd implements Releasable {
  constructor(
    private readonly x: Exchange,
    private readonly deps: ForwardDeps,
    private readonly opts: {
      response: Response;
      endpoint: Endpoint;
      requestBytes: number;
      series: RequestSeries;
    },
    private readonly accounting: JsonAccounting | SseAccounting,
    private readonly stream: boolean,
  ) {}

  release(outcome: Outcome): void {
    const { x, deps, opts, accounting } = this;
    const scope = x.scope;
    const r = accounting.result;
    if (r.firstTokenAt !== undefined)
      scope.log.ttftMs = Math.round((r.firstTokenAt - scope.receivedAt) * 100) / 100;
    scope.log.promptTokens = r.usage?.promptTokens;
    scope.log.completionTokens = r.usage?.completionTokens ?? (r.contentEvents || undefined);
    scope.log.cachedTokens = r.usage?.cachedTokens;
    if (outcome === "success" && opts.response.ok) {
      recordAnswer({
        series: opts.series,
        stream: this.stream,
        receivedAt: scope.receivedAt,
        endedAt: deps.clock.now(),
        requestBytes: opts.requestBytes,
        result: accounting.result,
      });
      deps.onAnswered?.({ request: x.inferenceRequest, endpoint: opts.endpoint, result: accounting.result });
    }
  }
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
    return new Uint8Array(await upstream.arrayBuffer());
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
function graceOver(): GatewayError {
  return shuttingDown("The gateway is shutting down and its grace period is over; retry on another replica.");
}

function clientGone(): GatewayError {
  return new GatewayError({
    status: 499,
    message: "The client closed the request before it was answered.",
    code: "client_closed_request",
    droppedReason: "rejected-context-cancelled",
  });
}
