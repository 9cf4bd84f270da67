/**
 * One error type for the whole gateway. Every failure a client can see is a
 * GatewayError, and `app.onError` maps it to a status and an OpenAI error body in
 * one place (see toErrorResponse).
 */

import { cut } from "./cut.ts";

/** Values of the `x-gateway-request-dropped-reason` response header. */
export type DroppedReason =
  | "rejected-saturated"
  | "rejected-no-endpoints"
  | "rejected-ttl-expired"
  | "rejected-context-cancelled"
  | "rejected-shutting-down"
  | "evicted";

export interface GatewayErrorInit {
  status: number;
  message: string;
  /** OpenAI error `type`, e.g. `invalid_request_error`. */
  type?: string;
  /** OpenAI error `code`, e.g. `model_not_found`. */
  code?: string | null;
  /** The request field at fault, e.g. `messages`. */
  param?: string | null;
  droppedReason?: DroppedReason;
  /** Extra response headers, e.g. `retry-after`. */
  headers?: Record<string, string>;
}

const DEFAULT_TYPE: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  405: "invalid_request_error",
  408: "invalid_request_error",
  413: "invalid_request_error",
  429: "rate_limit_error",
  499: "client_closed_request",
  500: "server_error",
  502: "server_error",
  503: "service_unavailable",
  504: "timeout_error",
};

export class GatewayError extends Error {
  readonly status: number;
  readonly type: string;
  readonly code: string | null;
  readonly param: string | null;
  readonly droppedReason: DroppedReason | undefined;
  readonly headers: Record<string, string>;

  constructor(init: GatewayErrorInit) {
    super(init.message);
    this.name = "GatewayError";
    this.status = init.status;
    this.type = init.type ?? DEFAULT_TYPE[init.status] ?? "server_error";
    this.code = init.code ?? null;
    this.param = init.param ?? null;
    this.droppedReason = init.droppedReason;
    this.headers = init.headers ?? {};
  }

  /** The OpenAI-shaped body: `{"error":{"message","type","param","code"}}`. */
  toJSON(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const badRequest = (message: string, param: string | null = null, code: string | null = null) =>
  new GatewayError({ status: 400, message, param, code });

export const notFound = (message: string, code = "not_found") =>
  new GatewayError({ status: 404, message, code });

/** Longest client-supplied name quoted back in an error message (a model name can be 1 MiB). */
const MAX_QUOTED = 256;

/** A client-supplied name in single quotes, cut to MAX_QUOTED characters so errors stay small. */
export function quoted(name: string): string {
  if (name.length <= MAX_QUOTED) return `'${name}'`;
  return `'${cut(name, MAX_QUOTED)}' (${name.length} characters)`;
}

export const modelNotFound = (model: string) =>
  new GatewayError({
    status: 404,
    message: `The model ${quoted(model)} does not exist or is not served by any endpoint of this pool.`,
    param: "model",
    code: "model_not_found",
  });

export const noEndpoints = (message = "No ready endpoint can serve this request.") =>
  new GatewayError({ status: 503, message, code: "no_endpoints", droppedReason: "rejected-no-endpoints" });

/**
 * A 503 refusal because this replica is stopping: one status, code, dropped reason and
 * retry/close headers whether the request arrived during shutdown or outlived the grace.
 */
export const shuttingDown = (message: string) =>
  new GatewayError({
    status: 503,
    message,
    code: "shutting_down",
    droppedReason: "rejected-shutting-down",
    headers: { "retry-after": "1", connection: "close" },
  });

/** Anthropic's error `type` per status (its API docs); other 4xx are `invalid_request_error`, other 5xx `api_error`. */
const ANTHROPIC_TYPE: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  503: "overloaded_error",
  529: "overloaded_error",
};

/**
 * The body Anthropic's API (and vLLM's `/v1/messages`) answers errors with:
 * `{"type":"error","error":{"type","message"}}`, so Anthropic SDKs read the gateway's
 * refusals on `/v1/messages` as they read the pod's.
 */
export function anthropicErrorBody(e: GatewayError): {
  type: "error";
  error: { type: string; message: string };
} {
  const type = ANTHROPIC_TYPE[e.status] ?? (e.status < 500 ? "invalid_request_error" : "api_error");
  return { type: "error", error: { type, message: e.message } };
}

/** The error body a route speaks: OpenAI's (every route but one) or Anthropic's (`/v1/messages`). */
export type ErrorShape = "openai" | "anthropic";

/** Builds the HTTP response for any error; unknown errors become a 500 without leaking internals. */
export function toErrorResponse(
  err: unknown,
  extraHeaders: Record<string, string> = {},
  shape: ErrorShape = "openai",
): Response {
  const e =
    err instanceof GatewayError
      ? err
      : new GatewayError({ status: 500, message: "Internal gateway error.", code: "internal_error" });
  const headers: Record<string, string> = {
    "content-type": "application/json",
    ...e.headers,
    ...extraHeaders,
  };
  if (e.droppedReason) headers["x-gateway-request-dropped-reason"] = e.droppedReason;
  const body = shape === "anthropic" ? anthropicErrorBody(e) : e;
  return new Response(JSON.stringify(body), { status: e.status, headers });
}
