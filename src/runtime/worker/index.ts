/**
 * Cloudflare Workers entry (wrangler.toml `main`). The Worker is stateless: it routes
 * every request to its pool's Durable Object (`idFromName(pool name)`), which runs the
 * gateway. Config: the `GATEWAY_CONFIG` var (YAML). Web-standard only, no `node:` imports.
 */
import type { GatewayConfig } from "../../config/load.ts";
import { toErrorResponse } from "../../errors.ts";
import { routeAt } from "../../openai/routes.ts";
import { readBody } from "../../stages/read-body.ts";
import { loadWorkerConfig, poolNameOf } from "./config.ts";
import { configErrorResponse } from "./pool.ts";
import { relayBody } from "./relay.ts";
import type { WorkerEnv } from "./types.ts";

export { GatewayPool } from "./pool.ts";

/** The pool name and body limits for this isolate's config text, parsed once per text. */
let cached: { text: unknown; pool: string; limit: number; timeoutMs: number } | undefined;

function configFor(env: WorkerEnv): NonNullable<typeof cached> {
  if (cached && cached.text === env.GATEWAY_CONFIG) return cached;
  const config: GatewayConfig = loadWorkerConfig(env);
  const { maxBodyBytes, bodyReadTimeoutMs } = config.settings;
  cached = {
    text: env.GATEWAY_CONFIG,
    pool: poolNameOf(config),
    limit: maxBodyBytes,
    timeoutMs: bodyReadTimeoutMs,
  };
  return cached;
}

/**
 * The request with its body read here, within the gateway's limits (413, 408, 499 in the
 * route's error shape), before it goes to the pool's Durable Object. Handed on as a stream,
 * a body the object answered without reading (a form route given JSON, a declared length
 * over the limit) left workerd's pipe of it half-way: workerd then threw an uncaught error
 * and restarted the Worker, and every request in flight got a 503. Any client could do that.
 */
async function withBodyRead(
  request: Request,
  limits: { limit: number; timeoutMs: number },
): Promise<Request | Response> {
  if (!request.body) return request;
  try {
    return new Request(request, { body: await readBody(request, limits) });
  } catch (err) {
    return toErrorResponse(err, {}, routeAt(new URL(request.url).pathname)?.errors);
  }
}

export default {
  async fetch(request: Request, env: WorkerEnv): Promise<Response> {
    let config: NonNullable<typeof cached>;
    try {
      config = configFor(env);
    } catch (err) {
      return configErrorResponse(err);
    }
    const forwarded = await withBodyRead(request, config);
    if (forwarded instanceof Response) return forwarded;
    const response = await env.GATEWAY_POOL.get(env.GATEWAY_POOL.idFromName(config.pool)).fetch(forwarded);
    // Relayed by our own stream so that a client who leaves cancels the object's body (relay.ts).
    return response.body ? new Response(relayBody(response.body), response) : response;
  },
};
