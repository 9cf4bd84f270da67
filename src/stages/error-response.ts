import { type ErrorShape, GatewayError, toErrorResponse } from "../errors.ts";
import type { Logger } from "../log.ts";

/**
 * What a request that failed gets: its error in the route's shape (OpenAI's, or Anthropic's
 * on /v1/messages). An error that is not the gateway's own (a bug) is logged with its stack
 * and answered as a 500. Used by `app.onError` and by the inference routes' one handler.
 */
export function errorResponse(
  logger: Logger,
  err: unknown,
  requestId: string | undefined,
  shape: ErrorShape | undefined,
): Response {
  if (!(err instanceof GatewayError)) {
    logger.error("unhandled error", {
      requestId,
      // A DOMException's stack can be empty: fall back to its name and message.
      error: err instanceof Error ? err.stack || `${err.name}: ${err.message}` : String(err),
    });
  }
  return toErrorResponse(err, {}, shape);
}
