/**
 * session-affinity-scorer: keep a session on the endpoint that served it before (its
 * KV cache holds the conversation).
 *
 *   score = 1 for the endpoint named by the request's session token, 0 for the others
 *
 * Input: the request header `headerName` (default `x-session-token`, as llm-d) carrying
 * base64(UTF-8 endpoint name). Its ResponseReceived hook sets that same header on the
 * answer, naming the endpoint that actually served (a fallback when the primary failed),
 * so the client's echo brings the next request back there. A missing, malformed or
 * unknown token scores 0 everywhere. Parameters: `headerName`.
 */
import * as v from "valibot";
import type { Endpoint } from "../src/endpoints/types.ts";
import type { ResponseReceived, Scorer } from "../src/scheduling/framework/interfaces.ts";
import { type PluginDefinition, withParameters } from "../src/scheduling/framework/registry.ts";

export const SESSION_AFFINITY_SCORER = "session-affinity-scorer";
export const SESSION_TOKEN_HEADER = "x-session-token";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** The token naming `endpointName`: base64 of its UTF-8 bytes. */
export function encodeSessionToken(endpointName: string): string {
  let binary = "";
  for (const b of encoder.encode(endpointName)) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** The endpoint name in a token, or undefined when it is not valid base64 of UTF-8. */
export function decodeSessionToken(token: string): string | undefined {
  try {
    const binary = atob(token.trim());
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * What the proxy must set on the response of a request served by `endpoint`, so the
 * client's next request in the session can carry it back.
 */
export function sessionTokenHeader(
  endpoint: Pick<Endpoint, "name">,
  headerName = SESSION_TOKEN_HEADER,
): [string, string] {
  return [headerName, encodeSessionToken(endpoint.name)];
}

export function sessionAffinityScorer(
  opts: { name?: string; headerName?: string } = {},
): Scorer & ResponseReceived {
  const header = opts.headerName ?? SESSION_TOKEN_HEADER;
  return {
    type: SESSION_AFFINITY_SCORER,
    name: opts.name ?? SESSION_AFFINITY_SCORER,
    score(ctx, endpoints) {
      const token = ctx.request.headers.get(header);
      const target = token ? decodeSessionToken(token) : undefined;
      return endpoints.map((e) => (target !== undefined && e.name === target ? 1 : 0));
    },
    responseReceived(_ctx, { endpoint, headers }) {
      const [name, value] = sessionTokenHeader(endpoint, header);
      headers.set(name, value);
    },
  };
}

const Parameters = v.strictObject({
  headerName: v.optional(v.pipe(v.string(), v.minLength(1)), SESSION_TOKEN_HEADER),
});

export const sessionAffinityScorerPlugin: PluginDefinition = {
  type: SESSION_AFFINITY_SCORER,
  factory: withParameters(Parameters, (name, params) =>
    sessionAffinityScorer({ name, headerName: params.headerName }),
  ),
};
