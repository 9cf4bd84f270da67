import type { ApiKey } from "../config/settings.ts";
import { badRequest, GatewayError, quoted } from "../errors.ts";
import type { CompiledRule, RuleBackend } from "./types.ts";

/** The header a client chooses a backend with (when `clientBackendSelection` is on). */
export const BACKEND_HEADER = "x-gateway-backend";

/**
 * A client-chosen backend (seed 002): with `clientBackendSelection` on, a key with
 * `trustedRouting` may name one of the matched rule's backends in `x-gateway-backend`;
 * the request then goes there alone. Any other key naming one gets a 403; a name outside
 * the rule a 400 listing the names it allows. Off: undefined (the header is ignored).
 */
export function chosenBackend(
  rule: CompiledRule,
  opts: { enabled: boolean; header: string | null; principal: ApiKey | undefined },
): RuleBackend | undefined {
  if (!opts.enabled || opts.header === null) return undefined;
  const name = opts.header.trim();
  if (!opts.principal?.trustedRouting)
    throw new GatewayError({
      status: 403,
      message: `This API key may not choose a backend: ${BACKEND_HEADER} needs a key with trustedRouting. Drop the header or use such a key.`,
      param: BACKEND_HEADER,
      code: "backend_choice_not_allowed",
    });
  const found = rule.backends.find((b) => b.name === name);
  if (!found)
    throw badRequest(
      `${BACKEND_HEADER} names ${quoted(name)}, which is not a backend of the rule this request matched; allowed: ${rule.backends.map((b) => `'${b.name}'`).join(", ")}.`,
      BACKEND_HEADER,
      "invalid_backend",
    );
  return found;
}
