import type { ApiKey } from "./config/settings.ts";

/**
 * The Hono context variables of the routes that are not inference routes (health, metrics,
 * models, dashboard, stored responses). The inference routes keep what their stages learn in
 * an Exchange (src/stages/exchange.ts), not in context variables.
 */
export interface GatewayVariables {
  requestId: string;
  /** The API key entry the request authenticated with (stored-response routes); unset when auth is off. */
  principal: ApiKey;
}

export type GatewayEnv = { Variables: GatewayVariables };
