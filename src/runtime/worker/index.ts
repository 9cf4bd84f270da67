/**
 * Cloudflare Workers entry (wrangler.toml `main`). The Worker is stateless: it routes
 * every request to its pool's Durable Object (`idFromName(pool name)`), which runs the
 * gateway. Config: the `GATEWAY_CONFIG` var (YAML). Web-standard only, no `node:` imports.
 */
import type { GatewayConfig } from "../../config/load.ts";
import { loadWorkerConfig, poolNameOf } from "./config.ts";
import { configErrorResponse } from "./pool.ts";
import { relayBody } from "./relay.ts";
import type { WorkerEnv } from "./types.ts";

export { GatewayPool } from "./pool.ts";

/** The pool name for this isolate's config text, parsed once per text. */
let cached: { text: unknown; pool: string } | undefined;

function poolFor(env: WorkerEnv): string {
  if (cached && cached.text === env.GATEWAY_CONFIG) return cached.pool;
  const config: GatewayConfig = loadWorkerConfig(env);
  const pool = poolNameOf(config);
  cached = { text: env.GATEWAY_CONFIG, pool };
  return pool;
}

export default {
  async fetch(request: Request, env: WorkerEnv): Promise<Response> {
    let pool: string;
    try {
      pool = poolFor(env);
    } catch (err) {
      return configErrorResponse(err);
    }
    const response = await env.GATEWAY_POOL.get(env.GATEWAY_POOL.idFromName(pool)).fetch(request);
    // Relayed by our own stream so that a client who leaves cancels the object's body (relay.ts).
    return response.body ? new Response(relayBody(response.body), response) : response;
  },
};
