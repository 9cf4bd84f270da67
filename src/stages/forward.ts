import type { Context } from "hono";
import type { GatewayConfig } from "../config/load.ts";
import type { FetchFn } from "../deps.ts";
import type { InFlight } from "../endpoints/inflight.ts";
import type { Endpoint } from "../endpoints/types.ts";
import type { GatewayEnv } from "../env.ts";
import { GatewayError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { GatewayMetrics } from "../metrics/gateway-metrics.ts";
import { downstreamHeaders, upstreamHeaders } from "../proxy/headers.ts";
import { renameModelInJson, renameModelInSse } from "../proxy/model-field.ts";
import { relay } from "../proxy/relay.ts";

const encoder = new TextEncoder();

export interface ForwardDeps {
  config: () => GatewayConfig;
  fetch: FetchFn;
  inflight: InFlight;
  metrics: Pick<GatewayMetrics, "running">;
  logger: Logger;
}

/**
 * The last stage: sends the request to the first endpoint that accepts a connection
 * (primary, then fallbacks) and streams the answer back untouched. Upstream error
 * statuses pass through with their bodies; unreachable endpoints give 503.
 */
export function forward(deps: ForwardDeps) {
  return async function forwardStage(c: Context<GatewayEnv>): Promise<Response> {
    const req = c.var.inferenceRequest;
    const target = c.var.targetModel;
    const settings = deps.config().settings;
    const rewritten = target.target !== req.model;
    const body = rewritten
      ? encoder.encode(JSON.stringify({ ...req.body, model: target.target }))
      : req.bytes;
    const headers = upstreamHeaders(c.req.raw.headers, {
      forwardAuthorization: settings.upstream.forwardAuthorization,
    });
    headers.set("content-type", "application/json");
    headers.set("x-request-id", c.var.requestId);

    const clientSignal = c.req.raw.signal;
    const attempts = c.var.endpoints.slice(0, settings.upstream.maxAttempts);
    let lastError: unknown;
    for (const endpoint of attempts) {
      const slot = deps.inflight.acquire(endpoint.name);
      const controller = new AbortController();
      let upstream: Response;
      try {
        upstream = await deps.fetch(`http://${endpoint.address}${req.path}`, {
          method: "POST",
          headers,
          body,
          signal: AbortSignal.any([clientSignal, controller.signal]),
        });
      } catch (err) {
        slot.release();
        if (clientSignal.aborted) throw clientGone();
        lastError = err;
        deps.logger.warn("endpoint unreachable, trying the next one", {
          requestId: c.var.requestId,
          endpoint: endpoint.name,
          error: err instanceof Error ? err.message : String(err),
        });
        continue;
      }
      const labels = { model_name: req.model, target_model_name: target.target };
      deps.metrics.running.inc(labels);
      c.var.scope.hold({
        release: () => {
          slot.release();
          deps.metrics.running.dec(labels);
        },
      });
      const renameTo = rewritten && settings.responseModel === "requested" ? req.model : undefined;
      return respond(c, upstream, endpoint, { controller, renameTo });
    }
    throw new GatewayError({
      status: 503,
      message: `No endpoint could be reached (${attempts.length} tried): ${describe(lastError)}.`,
      code: "upstream_unreachable",
    });
  };
}

/** Wraps the pod's answer for the client; the relay ends the request scope when the body ends. */
async function respond(
  c: Context<GatewayEnv>,
  upstream: Response,
  endpoint: Endpoint,
  opts: { controller: AbortController; renameTo: string | undefined },
): Promise<Response> {
  const scope = c.var.scope;
  const out = downstreamHeaders(upstream.headers);
  out.set("x-gateway-target-model", c.var.targetModel.target);
  out.set("x-gateway-destination-endpoint-served", endpoint.address);
  const isSse = (upstream.headers.get("content-type") ?? "").includes("text/event-stream");
  const body = await bodyFor(upstream, isSse, opts.renameTo);
  scope.streaming = body !== null;
  const relayed = body
    ? relay(body, {
        sse: isSse,
        onEnd: (outcome) => scope.end(upstream.status >= 400 && outcome === "success" ? "error" : outcome),
        abortUpstream: () => opts.controller.abort(),
      })
    : null;
  return new Response(relayed, { status: upstream.status, statusText: upstream.statusText, headers: out });
}

/** The pod's body, or with `model` renamed when the client should see the name it asked for. */
async function bodyFor(
  upstream: Response,
  isSse: boolean,
  renameTo: string | undefined,
): Promise<ReadableStream<Uint8Array> | null> {
  if (!upstream.body || !upstream.ok || renameTo === undefined) return upstream.body;
  if (isSse) return upstream.body.pipeThrough(renameModelInSse(renameTo));
  return new Response(renameModelInJson(await upstream.text(), renameTo)).body;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : "connection failed";
}

function clientGone(): GatewayError {
  return new GatewayError({
    status: 499,
    message: "The client closed the request before it was answered.",
    code: "client_closed_request",
    droppedReason: "rejected-context-cancelled",
  });
}
