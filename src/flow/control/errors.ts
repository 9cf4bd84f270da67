import { type DroppedReason, GatewayError, noEndpoints } from "../../errors.ts";
import type { BandSettings } from "./config.ts";

/**
 * The errors flow control answers with. Each names the limit it hit and the setting
 * to change; `app.onError` turns them into an OpenAI error body plus
 * `x-gateway-request-dropped-reason`.
 */

const RETRY = { "retry-after": "1" };

function saturated(message: string): GatewayError {
  return new GatewayError({
    status: 429,
    message,
    code: "rejected_saturated",
    droppedReason: "rejected-saturated",
    headers: RETRY,
  });
}

/** The band's queue cannot take one more request of `bytes`. */
export function bandFull(band: BandSettings, queued: { count: number; bytes: number }, bytes: number) {
  if (bytes > band.maxBytes)
    return saturated(
      `Request body of ${bytes} bytes exceeds the queue limit of priority band ${band.priority} ` +
        `(maxBytes=${band.maxBytes}); raise ${band.path}.maxBytes.`,
    );
  const which = queued.count + 1 > band.maxRequests ? "maxRequests" : "maxBytes";
  const limit = which === "maxRequests" ? band.maxRequests : band.maxBytes;
  return saturated(
    `The queue of priority band ${band.priority} is full (${queued.count} requests, ${queued.bytes} bytes queued; ` +
      `${which}=${limit}); retry later, or raise ${band.path}.${which}.`,
  );
}

/** The global queue limit is reached and nothing of lower priority can make room. */
export function globalFull(
  limits: { maxRequests: number; maxBytes: number },
  queued: { count: number; bytes: number },
) {
  const which = queued.count + 1 > limits.maxRequests ? "maxRequests" : "maxBytes";
  const limit = which === "maxRequests" ? limits.maxRequests : limits.maxBytes;
  return saturated(
    `The flow-control queue is full across all priorities (${queued.count} requests, ${queued.bytes} bytes queued; ` +
      `${which}=${limit}); retry later, or raise flowControl.${which}.`,
  );
}

/** Why a queued request left without being dispatched, as an error. */
export function dropped(
  reason: Exclude<DroppedReason, "rejected-saturated">,
  info: { priority: number; waitedMs: number; ttlMs: number; ttlPath?: string },
): GatewayError {
  const waited = `${Math.round(info.waitedMs)} ms`;
  switch (reason) {
    case "rejected-ttl-expired":
      return new GatewayError({
        status: 429,
        message:
          `The request waited ${waited} in the flow-control queue (priority ${info.priority}) and expired ` +
          `(TTL ${info.ttlMs} ms); the pool stayed saturated. Retry later, or raise ${info.ttlPath ?? "flowControl.defaultRequestTTL"}.`,
        code: "rejected_ttl_expired",
        droppedReason: reason,
        headers: RETRY,
      });
    case "rejected-context-cancelled":
      return new GatewayError({
        status: 499,
        type: "client_closed_request",
        message: `The client went away after ${waited} in the flow-control queue.`,
        code: "rejected_context_cancelled",
        droppedReason: reason,
      });
    case "rejected-shutting-down":
      return new GatewayError({
        status: 503,
        message: "The gateway is shutting down; retry on another replica.",
        code: "rejected_shutting_down",
        droppedReason: reason,
      });
    case "rejected-no-endpoints":
      return noEndpoints(
        info.waitedMs > 0
          ? `No endpoint appeared in the pool while the request waited ${waited} in the queue.`
          : "The pool has no ready endpoint to serve this request.",
      );
    case "evicted":
      return new GatewayError({
        status: 429,
        message:
          `The request (priority ${info.priority}) was evicted from the full flow-control queue after ${waited} ` +
          `to make room for higher-priority work; retry later, or raise flowControl.maxRequests / maxBytes.`,
        code: "evicted",
        droppedReason: reason,
        headers: RETRY,
      });
  }
}

/** An in-flight sheddable request ended to make room for higher-priority work (enableEviction). */
export function evictedInFlight(priority: number, waitingPriority: number): GatewayError {
  return new GatewayError({
    status: 429,
    message:
      `The request (priority ${priority}) was ended while being served to make room for higher-priority ` +
      `work (priority ${waitingPriority} waiting): flowControl.enableEviction is on and negative priorities ` +
      `are sheddable. Retry later, or send it with a priority of 0 or more.`,
    code: "evicted",
    droppedReason: "evicted",
    headers: RETRY,
  });
}
