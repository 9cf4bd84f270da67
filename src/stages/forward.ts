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
    const scope = c.var.scope;
    const settings = deps.config().settings;
    const body =
      target.target === req.model
        ? req.bytes
        : encoder.encode(JSON.stringify({ ...req.body, model: target.target }));
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
      try {
        const upstream = await deps.fetch(`http://${endpoint.address}${req.path}`, {
          method: "POST",
          headers,
          body,
          signal: AbortSignal.any([clientSignal, controller.signal]),
        });
        return respond(upstream, endpoint, { slot, controller });
      } catch (err) {
        slot.release();
        if (clientSignal.aborted) throw clientGone();
        lastError = err;
        deps.logger.warn("endpoint unreachable, trying the next one", {
          requestId: c.var.requestId,
          endpoint: endpoint.name,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
    throw new GatewayError({
      status: 503,
      message: `No endpoint could be reached (${attempts.length} tried): ${lastError instanceof Error ? lastError.message : "connection failed"}.`,
      code: "upstream_unreachable",
    });

    function respond(
      upstream: Response,
      endpoint: Endpoint,
      held: { slot: { release(): void }; controller: AbortController },
    ): Response {
      const labels = { model_name: req.model, target_model_name: target.target };
      deps.metrics.running.inc(labels);
      scope.hold({
        release: () => {
          held.slot.release();
          deps.metrics.running.dec(labels);
        },
      });
      const out = downstreamHeaders(upstream.headers);
      out.set("x-gateway-target-model", target.target);
      out.set("x-gateway-destination-endpoint-served", endpoint.address);
      const isSse = (upstream.headers.get("content-type") ?? "").includes("text/event-stream");
      scope.streaming = upstream.body !== null;
      const responseBody = upstream.body
        ? relay(upstream.body, {
            sse: isSse,
            onEnd: (outcome) =>
              scope.end(upstream.status >= 400 && outcome === "success" ? "error" : outcome),
            abortUpstream: () => held.controller.abort(),
          })
        : null;
      return new Response(responseBody, {
        status: upstream.status,
        statusText: upstream.statusText,
        headers: out,
      });
    }
  };
}

function clientGone(): GatewayError {
  return new GatewayError({
    status: 499,
    message: "The client closed the request before it was answered.",
    code: "client_closed_request",
    droppedReason: "rejected-context-cancelled",
  });
}
