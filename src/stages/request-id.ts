import type { MiddlewareHandler } from "hono";
import type { GatewayEnv } from "../env.ts";

/** The header a request's id is read from and echoed in. */
export const REQUEST_ID_HEADER = "x-request-id";

const SAFE_ID = /^[\w.:/+=@-]{1,200}$/;

/** The client's `x-request-id` when it is sane, else a fresh one. */
export function requestIdOf(headers: Headers): string {
  const given = headers.get(REQUEST_ID_HEADER);
  return given && SAFE_ID.test(given) ? given : crypto.randomUUID();
}

/**
 * For the routes that are not inference routes (health, metrics, models, dashboard, stored
 * responses): takes the client's id or makes one, and echoes it on the answer, errors
 * included. The inference routes do the same in their one handler (stages/pipeline.ts), so
 * Hono takes its single-handler path for them.
 */
export function requestId(): MiddlewareHandler<GatewayEnv> {
  return async function requestIdStage(c, next) {
    const id = requestIdOf(c.req.raw.headers);
    c.set("requestId", id);
    await next();
    c.res.headers.set(REQUEST_ID_HEADER, id);
  };
}
