import type { Clock, SetTimer } from "../clock.ts";
import type { GatewayConfig } from "../config/load.ts";
import type { FetchFn } from "../deps.ts";
import type { PassiveHealth } from "../endpoints/health.ts";
import type { InFlight } from "../endpoints/inflight.ts";
import type { Endpoint } from "../endpoints/types.ts";
import { GatewayError } from "../errors.ts";
import type { Closing } from "../lifecycle.ts";
import type { Logger } from "../log.ts";
import type { GatewayMetrics } from "../metrics/gateway-metrics.ts";
import type { RequestSeries } from "../metrics/request-series.ts";
import type { AccountingResult } from "../proxy/accounting.ts";
import { attempt } from "../proxy/attempt.ts";
import { bodyRequestHeaders } from "../proxy/headers.ts";
import { spliceRequestBody } from "../proxy/model-field.ts";
import { multipartWithModel } from "../proxy/multipart-model.ts";
import { POD_HEAD, type PodHead, podHead } from "../proxy/pod-head.ts";
import type { DirectStreams } from "../proxy/relay.ts";
import type { InferenceRequest, TargetModel } from "../request.ts";
import type { Exchange } from "./exchange.ts";
import { clientGone, graceOver, respond } from "./respond.ts";

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
  const usageInjected = usageAsked(req);
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

/** Whether the gateway asks the pod for the stream's usage (see `upstreamBody`). */
function usageAsked(req: InferenceRequest): boolean {
  if (!req.stream || !USAGE_OPTION_KINDS.has(req.kind)) return false;
  const streamOptions = req.body["stream_options"] as { include_usage?: boolean } | null | undefined;
  return streamOptions?.include_usage !== true;
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
  /**
   * Whether the pod client writes its head from a PodHead (the Bun wire client): the pod's
   * headers as head lines in one pass over the client's (src/proxy/pod-head.ts), no Headers built.
   */
  const podHeads = (deps.fetch as { [POD_HEAD]?: boolean })[POD_HEAD] === true;
  /** Where the entry writes streams itself (Bun; Node's direct bodies) a stream that had all come with its head is answered as bytes (respond.ts): attempt hands it over whole. */
  const wholeStreams = deps.directStreams !== undefined && deps.directStreams !== false;
  return async function forwardStage(x: Exchange): Promise<Response> {
    const req = x.inferenceRequest;
    const target = x.targetModel;
    const { settings } = deps.config();
    const lifecycle = x.lifecycle;
    let bytes: Uint8Array<ArrayBuffer>;
    let usageInjected: boolean;
    let headers: Headers | PodHead | undefined;
    try {
      usageInjected = usageAsked(req);
      // The client's bytes as they came (most requests): no result object made for them.
      if (!usageInjected && target.target === req.model) bytes = req.bytes;
      else ({ bytes, usageInjected } = upstreamBody(req, target));
      // The settings' own object carries `forwardAuthorization`: no options object a request.
      if (podHeads) headers = podHead(x.headers, req.kind, x.requestId, settings.upstream);
      if (headers === undefined) {
        headers = bodyRequestHeaders(x.headers, req.kind, x.requestId, settings.upstream);
        const credential = settings.upstream.credential;
        if (credential?.value) headers.set(credential.header, credential.value);
      }
    } catch (err) {
      // No pod call: the decision's PreRequest hooks run now, in the schedule stage's turn.
      lifecycle?.requestSent?.();
      throw err;
    }

    // The first `tried` scheduled endpoints, read in place (no copy a request).
    const attempts = x.endpoints;
    const tried = Math.min(attempts.length, settings.upstream.maxAttempts);
    const closing = deps.lifecycle?.closing;
    let series: RequestSeries | undefined;
    if (tried === 0) {
      lifecycle?.requestSent?.();
      series = started(x, deps);
    }
    /** The last refusal (made only when an attempt fails: most requests never need one). */
    let last: { reason: string; response?: Response; broken?: boolean } | undefined;
    for (let i = 0; i < tried; i++) {
      const endpoint = attempts[i]!;
      // One object of one shape per attempt (no spreads: attempt reads absent and undefined alike).
      // attempt runs up to the pod call before it returns: what follows here, in the same
      // turn, is counted as before (nothing else runs in between) but no longer delays the call.
      const pending = attempt({
        fetch: deps.fetch,
        url: podUrl(endpoint, req.path),
        // A PodHead goes only to the fetch that offered to take one (`podHeads`), as its init.headers.
        headers: headers!,
        body: bytes,
        clientSignal: x.clientSignal,
        responseTimeoutMs: settings.upstream.responseTimeoutMs,
        firstByteTimeoutMs: req.stream ? settings.upstream.firstByteTimeoutMs : undefined,
        retryOn: settings.upstream.retryOn,
        closing,
        setTimer: deps.setTimer,
        wholeStreams,
      });
      // The decision's PreRequest hooks and metrics (held by the schedule stage), once: after
      // the call has left, before anything else counts this request or any other is scheduled.
      if (i === 0) lifecycle?.requestSent?.();
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
        if (i < tried - 1) await result.response?.body?.cancel().catch(() => {});
        last = result;
        deps.logger.warn("endpoint failed before answering", {
          requestId: x.requestId,
          endpoint: endpoint.name,
          reason: result.reason,
          nextTry: i < tried - 1,
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
        whole: result.whole,
        editable,
      });
    }
    // Every endpoint refused: a last 503 passes through as the pod said it; else our own 503.
    if (last?.response)
      return respond(x, deps, {
        response: last.response,
        controller: new AbortController(),
        endpoint: attempts[tried - 1]!,
        usageInjected,
        requestBytes: bytes.byteLength,
        series: series!, // set: a response means an attempt was made
        editable,
      });
    if (last?.broken)
      throw new GatewayError({
        status: 502,
        message: `The model server answered, but ${last.reason}; ${tried} endpoint(s) tried.`,
        code: "upstream_bad_response",
      });
    throw new GatewayError({
      status: 503,
      message: `No endpoint could answer (${tried} tried): ${last?.reason ?? "no endpoint tried"}.`,
      code: "upstream_unreachable",
    });
  };
}

/** An endpoint's last pod URL, and what it was made of. */
interface KnownUrl {
  address: string;
  path: string;
  url: string;
}
const urls = new WeakMap<Endpoint, KnownUrl>();

/**
 * `http://<address><path>`, the same string object while the endpoint's address and the path
 * stay (twelfth pass): a URL made per attempt was a rope the pod client flattened first thing
 * (~2.5 % of the Bun gateway's profile at 32 connections); made once, it is flattened once.
 */
function podUrl(endpoint: Endpoint, path: string): string {
  const known = urls.get(endpoint);
  if (known !== undefined && known.path === path && known.address === endpoint.address) return known.url;
  const url = `http://${endpoint.address}${path}`;
  urls.set(endpoint, { address: endpoint.address, path, url });
  return url;
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
