import type { MiddlewareHandler } from "hono";
import type { GatewayEnv } from "../env.ts";

const SAFE_ID = /^[\w.:/+=@-]{1,200}$/;

/** Takes `x-request-id` from the client when it is sane, else generates one; echoes it back. */
export function requestId({
  header = "x-request-id",
  generate = () => crypto.randomUUID(),
} = {}): MiddlewareHandler<GatewayEnv> {
  return async function requestIdStage(c, next) {
    const given = c.req.header(header);
    const id = given && SAFE_ID.test(given) ? given : generate();
    c.set("requestId", id);
    await next();
    c.res.headers.set(header, id);
  };
}
