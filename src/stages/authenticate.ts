import type { MiddlewareHandler } from "hono";
import { KeyRing, presentedKey } from "../auth/keys.ts";
import type { GatewayConfig } from "../config/load.ts";
import type { GatewayEnv } from "../env.ts";
import { GatewayError } from "../errors.ts";

const unauthenticated = (message: string, code: string) =>
  new GatewayError({
    status: 401,
    message,
    code,
    headers: { "www-authenticate": 'Bearer realm="inference-gateway"' },
  });

/** The key ring of a config, built once per config object (configs are swapped whole). */
const rings = new WeakMap<GatewayConfig, KeyRing>();
function ringOf(config: GatewayConfig): KeyRing {
  let ring = rings.get(config);
  if (!ring) {
    ring = new KeyRing(config.settings.auth.apiKeys);
    rings.set(config, ring);
  }
  return ring;
}

/**
 * When API keys are configured, inference routes need one: missing or unknown → 401.
 * Sets `principal` (the key's entry: tenant, allowed models, trusted routing).
 */
export function authenticate(deps: { config: () => GatewayConfig }): MiddlewareHandler<GatewayEnv> {
  return async function authenticateStage(c, next) {
    const ring = ringOf(deps.config());
    if (ring.size > 0) {
      const key = presentedKey(c.req.raw.headers);
      if (!key)
        throw unauthenticated(
          "Missing API key: send it as 'Authorization: Bearer <key>'.",
          "missing_api_key",
        );
      const principal = await ring.verify(key);
      if (!principal) throw unauthenticated("Invalid API key.", "invalid_api_key");
      c.set("principal", principal);
    }
    await next();
  };
}

/** Protects /metrics and admin routes with their own keys (`auth.metricsKeys`); open when none are set. */
export function requireMetricsKey(deps: { config: () => GatewayConfig }): MiddlewareHandler<GatewayEnv> {
  return async function metricsAuth(c, next) {
    const hashes = deps.config().settings.auth.metricsKeys;
    if (hashes.length > 0) {
      const key = presentedKey(c.req.raw.headers);
      if (!key) throw unauthenticated("Missing metrics key.", "missing_api_key");
      if (!(await KeyRing.matchesAny(key, hashes)))
        throw unauthenticated("Invalid metrics key.", "invalid_api_key");
    }
    await next();
  };
}
