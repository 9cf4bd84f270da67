import type { MiddlewareHandler } from "hono";
import { KeyRing, presentedKey } from "../auth/keys.ts";
import type { GatewayConfig } from "../config/load.ts";
import type { ApiKey } from "../config/settings.ts";
import type { GatewayEnv } from "../env.ts";
import { GatewayError } from "../errors.ts";
import type { Exchange } from "./exchange.ts";

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
 * Returns the key's entry (tenant, allowed models, trusted routing); undefined when auth
 * is off, without a promise (the usual case pays nothing).
 */
export function authenticateHeaders(config: GatewayConfig, headers: Headers): Promise<ApiKey> | undefined {
  const ring = ringOf(config);
  if (ring.size === 0) return undefined;
  const key = presentedKey(headers);
  if (!key)
    throw unauthenticated("Missing API key: send it as 'Authorization: Bearer <key>'.", "missing_api_key");
  return ring.verify(key).then((principal) => {
    if (!principal) throw unauthenticated("Invalid API key.", "invalid_api_key");
    return principal;
  });
}

/** The authenticate stage: sets `principal` when keys are configured (see authenticateHeaders). */
export function authenticate(deps: { config: () => GatewayConfig }) {
  return function authenticateStage(x: Exchange): Promise<void> | undefined {
    return authenticateHeaders(deps.config(), x.headers)?.then((principal) => {
      x.principal = principal;
    });
  };
}

/** The same check for the stored-response routes, as a Hono middleware setting `principal`. */
export function authenticateRoute(deps: { config: () => GatewayConfig }): MiddlewareHandler<GatewayEnv> {
  return async function authenticateRouteStage(c, next) {
    const principal = await authenticateHeaders(deps.config(), c.req.raw.headers);
    if (principal) c.set("principal", principal);
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
