/**
 * agent-identity (llm-d-router v0.10, a PreAdmission plugin): every turn of one coding
 * agent's session lands in the same fairness queue, for clients that cannot send
 * `x-gateway-inference-fairness-id` themselves.
 *
 * When the client sent no fairness id, the first non-empty header among
 * `additionalSessionHeaders` (in order) and then the built-in agent session headers
 * becomes the fairness id:
 *
 *   x-claude-code-session-id (Claude Code), x-session-affinity (OpenCode),
 *   session-id (Codex), session_id (Codex, older builds)
 *
 * No match leaves the request in `default-flow`. An explicit fairness id, or an API
 * key's tenant, always wins (the parse stage asks only when neither is there). Stateless.
 */
import * as v from "valibot";
import type { PreAdmission } from "../src/scheduling/framework/interfaces.ts";
import { type PluginDefinition, withParameters } from "../src/scheduling/framework/registry.ts";

export const AGENT_IDENTITY = "agent-identity";

/** The agents' own session headers, in the order upstream checks them. */
export const AGENT_SESSION_HEADERS: readonly string[] = [
  "x-claude-code-session-id",
  "x-session-affinity",
  "session-id",
  "session_id",
];

export const AgentIdentityParamsSchema = v.strictObject({
  additionalSessionHeaders: v.optional(
    v.array(v.pipe(v.string(), v.regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "an HTTP header name"))),
    [],
  ),
});

export function agentIdentity(
  params: Partial<v.InferOutput<typeof AgentIdentityParamsSchema>> = {},
  name = AGENT_IDENTITY,
): PreAdmission {
  const headers = [...(params.additionalSessionHeaders ?? []), ...AGENT_SESSION_HEADERS];
  return {
    type: AGENT_IDENTITY,
    name,
    preAdmission(request) {
      for (const h of headers) {
        const value = request.get(h)?.trim();
        if (value) return value;
      }
      return undefined;
    },
  };
}

export const agentIdentityPlugin: PluginDefinition = {
  type: AGENT_IDENTITY,
  factory: withParameters(AgentIdentityParamsSchema, (name, params) => agentIdentity(params, name)),
};
