import type { CompiledRule, HostedBackend, RuleBackend } from "../aigw/types.ts";
import { GatewayError } from "../errors.ts";
import { SseAccounting } from "../proxy/accounting.ts";
import { attempt } from "../proxy/attempt.ts";
import { bodyRequestHeaders, downstreamHeaders } from "../proxy/headers.ts";
import { JsonAccounting } from "../proxy/json-accounting.ts";
import { recordAnswer } from "../proxy/record.ts";
import { type ChunkSource, relay } from "../proxy/relay.ts";
import type { Exchange } from "../stages/exchange.ts";
import { upstreamBody } from "../stages/forward.ts";
import { backendUrl, type HostedBackends } from "./hosted.ts";

/** Why a request left its pool for a hosted backend (the `reason` label of gateway_spillover_total). */
export type SpillReason = "queue_budget" | "shed" | "saturated" | "pool_failed";

export interface HostedPlan {
  rule: CompiledRule;
  /** Hosted backends in the order to try (priority levels, weights, health). */
  backends: readonly RuleBackend[];
  /** Set when the request spilled from this pool. */
  spill?: { pool: string; reason: SpillReason };
}

/**
 * Client headers that carry a credential besides Authorization and x-api-key (which
 * upstreamHeaders drops): Azure's key header and cookies. A hosted provider is a third
 * party: it gets the BackendSecurityPolicy's key and nothing the client authenticates with.
 */
const CLIENT_CREDENTIALS = ["api-key", "cookie"];

type Hosted = RuleBackend & { target: { kind: "hosted"; backend: HostedBackend } };

/**
 * Sends the request to the plan's hosted backends in order while one fails before any byte
 * (refused, timed out, a retryOn status), as the pod path does, then relays the answer.
 * The client's credentials never go upstream (whatever `forwardAuthorization` says): the
 * backend's BackendSecurityPolicy key does. Answers carry `x-gateway-backend` and, after a
 * spill, `x-gateway-spilled-to`; the request log says `backend` and `spilled_to`.
 */
export async function sendToHosted(x: Exchange, rt: HostedBackends, plan: HostedPlan): Promise<Response> {
  const { deps } = rt;
  const settings = deps.config.current.settings;
  const req = x.inferenceRequest;
  const backends = plan.backends
    .filter((b): b is Hosted => b.target.kind === "hosted")
    .slice(0, settings.upstream.maxAttempts);
  let last: { reason: string; response?: Response } = { reason: "the rule has no hosted backend" };
  for (const [i, b] of backends.entries()) {
    const backend = b.target.backend;
    const model = b.modelNameOverride ?? req.model;
    const target = { requested: req.model, target: model, rewriteName: undefined };
    const url = backendUrl(backend, req, model);
    const { bytes, usageInjected } = upstreamBody(req, target);
    const headers = bodyRequestHeaders(x.headers, req.kind, x.requestId, { forwardAuthorization: false });
    for (const name of CLIENT_CREDENTIALS) headers.delete(name);
    if (backend.credential) {
      const [name, value] = await rt.keys.header(backend.credential, backend.name);
      headers.set(name, value);
    }
    const result = await attempt({
      fetch: rt.fetchFor(backend),
      url,
      headers,
      body: bytes,
      clientSignal: x.clientSignal,
      responseTimeoutMs: plan.rule.backendRequestTimeoutMs ?? settings.upstream.responseTimeoutMs,
      ...(req.stream ? { firstByteTimeoutMs: settings.upstream.firstByteTimeoutMs } : {}),
      retryOn: settings.upstream.retryOn,
      ...(deps.lifecycle?.closing ? { closing: deps.lifecycle.closing } : {}),
      ...(deps.setTimer ? { setTimer: deps.setTimer } : {}),
    });
    if (result.kind === "client-gone")
      throw new GatewayError({
        status: 499,
        message: "The client closed the request before it was answered.",
        code: "client_closed_request",
      });
    if (result.kind === "shutdown")
      throw new GatewayError({
        status: 503,
        message: "The gateway is shutting down; retry on another replica.",
        code: "shutting_down",
      });
    if (result.kind === "retryable") {
      rt.health.failure(b.name, result.reason);
      rt.metrics.requests.inc({ backend: b.name, code: String(result.status ?? "error") });
      if (i < backends.length - 1) await result.response?.body?.cancel().catch(() => {});
      last = result;
      deps.logger.warn("hosted backend failed before answering", {
        requestId: x.requestId,
        backend: b.name,
        reason: result.reason,
        nextTry: i < backends.length - 1,
      });
      continue;
    }
    if (result.response.status >= 500) rt.health.failure(b.name, `HTTP ${result.response.status}`);
    else rt.health.success(b.name);
    return respond(x, rt, {
      plan,
      backend: b,
      response: result.response,
      controller: result.controller,
      ...(result.body ? { body: result.body } : {}),
      usageInjected,
      requestBytes: bytes.byteLength,
      model,
    });
  }
  // Every backend refused: the last one's answer passes through as it said it.
  if (last.response)
    return new Response(last.response.body, {
      status: last.response.status,
      headers: downstreamHeaders(last.response.headers),
    });
  throw new GatewayError({
    status: 503,
    message: `No backend of ${plan.rule.id} could answer (${backends.length} tried): ${last.reason}.`,
    code: "upstream_unreachable",
  });
}

async function respond(
  x: Exchange,
  rt: HostedBackends,
  o: {
    plan: HostedPlan;
    backend: Hosted;
    response: Response;
    controller: AbortController;
    usageInjected: boolean;
    requestBytes: number;
    model: string;
    /** The stream's reader with its first chunk already in (attempt), when there is one. */
    body?: ChunkSource;
  },
): Promise<Response> {
  const { deps } = rt;
  const { response: upstream, backend: b } = o;
  const settings = deps.config.current.settings;
  const scope = x.scope;
  const req = x.inferenceRequest;
  const priority = x.admission?.priority ?? 0;
  x.targetModel = { requested: req.model, target: o.model, rewriteName: undefined };
  deps.metrics.labels.accept(req.model, o.model);
  const series = deps.metrics.series(req.model, o.model, req.fairnessId, priority);
  series.started();
  Object.assign(scope.log, {
    backend: b.name,
    ...(o.plan.spill ? { spilled_to: b.name, spill_reason: o.plan.spill.reason } : {}),
  });
  scope.log.endpoint = `backend/${b.name}`;
  if (o.plan.spill)
    rt.metrics.spills.inc({
      inference_pool: o.plan.spill.pool,
      backend: b.name,
      reason: o.plan.spill.reason,
    });
  const isSse = (upstream.headers.get("content-type") ?? "").includes("text/event-stream");
  const accounting = isSse
    ? new SseAccounting({ kind: req.kind, now: () => deps.clock.now(), dropUsageEvent: o.usageInjected })
    : new JsonAccounting(req.kind);
  scope.hold({
    release: (outcome) => {
      series.stopped();
      rt.metrics.requests.inc({ backend: b.name, code: String(upstream.status) });
      const r = accounting.result;
      if (r.firstTokenAt !== undefined)
        scope.log.ttftMs = Math.round((r.firstTokenAt - scope.receivedAt) * 100) / 100;
      scope.log.promptTokens = r.usage?.promptTokens;
      scope.log.completionTokens = r.usage?.completionTokens ?? (r.contentEvents || undefined);
      if (r.usage?.promptTokens)
        rt.metrics.tokens.inc({ backend: b.name, type: "input" }, r.usage.promptTokens);
      if (r.usage?.completionTokens)
        rt.metrics.tokens.inc({ backend: b.name, type: "output" }, r.usage.completionTokens);
      if (outcome === "success" && upstream.ok)
        recordAnswer({
          series,
          stream: isSse,
          receivedAt: scope.receivedAt,
          endedAt: deps.clock.now(),
          requestBytes: o.requestBytes,
          result: r,
        });
    },
  });
  const out = downstreamHeaders(upstream.headers);
  out.set("x-gateway-target-model", o.model);
  out.set("x-gateway-backend", b.name);
  if (o.plan.spill) out.set("x-gateway-spilled-to", b.name);
  const init = { status: upstream.status, statusText: upstream.statusText, headers: out };
  if (!isSse || !(o.body ?? upstream.body)) {
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = o.body ? await readAll(o.body) : new Uint8Array(await upstream.arrayBuffer());
    } catch (err) {
      o.controller.abort();
      if (x.signal.aborted)
        throw new GatewayError({
          status: 499,
          message: "The client closed the request before it was answered.",
          code: "client_closed_request",
        });
      scope.log.error = err instanceof Error ? err.message : String(err);
      throw new GatewayError({
        status: 502,
        message: `The backend '${b.name}' broke off its answer before it was complete.`,
        code: "upstream_response_incomplete",
      });
    }
    if (upstream.ok) {
      accounting.chunk(bytes);
      accounting.flush();
    }
    return new Response(bytes, init);
  }
  scope.streaming = true;
  const body = relay((o.body ?? upstream.body)!, {
    sse: true,
    tap: accounting,
    idleTimeoutMs: o.plan.rule.streamIdleTimeoutMs ?? settings.upstream.idleTimeoutMs,
    clock: deps.clock,
    ...(deps.lifecycle?.closing ? { closing: deps.lifecycle.closing } : {}),
    ...(deps.setTimer ? { setTimer: deps.setTimer } : {}),
    direct: deps.directStreams === true,
    onEnd: (outcome, detail) => {
      if (outcome === "error") scope.log.error = detail;
      scope.end(upstream.status >= 400 && outcome === "success" ? "error" : outcome);
    },
    abortUpstream: (reason) => o.controller.abort(new Error(reason)),
  });
  return new Response(body, init);
}

/** Every chunk of a reader attempt already started, as one array. */
async function readAll(source: ChunkSource): Promise<Uint8Array<ArrayBuffer>> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for (let r = await source.read(); !r.done; r = await source.read()) {
    parts.push(r.value);
    size += r.value.byteLength;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
