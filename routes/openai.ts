import { Hono } from "hono";
import type { GatewayDeps } from "../src/deps.ts";
import type { GatewayEnv } from "../src/env.ts";
import { GatewayError, quoted } from "../src/errors.ts";
import { RESPONSE_ID_ROUTES, type ResponseHomes } from "../src/openai/response-homes.ts";
import { ROUTES } from "../src/openai/routes.ts";
import { downstreamHeaders, SERVED_BY_HEADER, upstreamHeaders } from "../src/proxy/headers.ts";
import { authenticateRoute } from "../src/stages/authenticate.ts";
import type { ForwardDeps } from "../src/stages/forward.ts";
import { inferenceHandler } from "../src/stages/pipeline.ts";
import { requestId } from "../src/stages/request-id.ts";

/**
 * The inference routes (src/openai/routes.ts: every route a vLLM pod serves). Each is ONE
 * handler running the same stages (src/stages/pipeline.ts): scope → authenticate → parse →
 * route (the model's pool) → rewrite → authorize → candidates → accepted → admit →
 * schedule → forward. From route on, stages use the request's pool (x.pool): its rewrites,
 * endpoints, flow control and scheduler. Authorize runs after rewrite so it judges the
 * model actually served; `accepted` marks the point after which model names may label
 * metrics. Mounted at `/`: the table's paths are full paths (`/v1/embeddings`, `/tokenize`).
 * The stored-response routes are ordinary Hono routes with their own request-id middleware.
 */
export function openaiRoutes(deps: GatewayDeps): {
  app: Hono<GatewayEnv>;
  /** Each inference path's handler, for the app to call by exact path (POST) before routing. */
  direct: ReadonlyMap<string, (request: Request) => Promise<Response>>;
} {
  const config = () => deps.config.current;
  // Which pod holds each Responses API response (vLLM keeps them in that pod's memory).
  const homes = deps.responseHomes;
  const onAnswered: ForwardDeps["onAnswered"] = ({ request, endpoint, result }) => {
    const id = result.responseId;
    // Pods mint the ids; a length cap keeps a misbehaving pod from growing the memory by id size.
    if (request.kind !== "responses" || !id || id.length > MAX_RESPONSE_ID_LENGTH) return;
    // The pool the model routes to, unless the endpoint is not its (a pod can be in two pools).
    const routed = deps.pools.route(request.model);
    const pool = routed?.endpoints.get(endpoint.name)
      ? routed
      : deps.pools.list().find((p) => p.endpoints.get(endpoint.name) !== undefined);
    if (pool) homes.remember(id, { pool: pool.name, endpoint: endpoint.name, model: request.model });
  };
  const app = new Hono<GatewayEnv>();
  const direct = new Map<string, (request: Request) => Promise<Response>>();
  for (const spec of ROUTES) {
    const handle = inferenceHandler(deps, spec, onAnswered);
    direct.set(spec.path, handle);
    // Also a Hono route (one handler), for app.routes and anything that dispatches through Hono.
    app.post(spec.path, (c) => handle(c.req.raw));
  }
  for (const r of RESPONSE_ID_ROUTES)
    app.on(r.method, r.path, requestId(), authenticateRoute({ config }), (c) => {
      const id = c.req.param("id") ?? "";
      return toStoredResponse(deps, homes, c.req.raw, id, {
        upstreamPath: r.upstreamPath(id),
        allowedModels: c.get("principal")?.models,
      });
    });
  return { app, direct };
}

/** Longest response id remembered (OpenAI's and vLLM's are `resp_` + up to 64 characters). */
const MAX_RESPONSE_ID_LENGTH = 256;

/**
 * A route that names a stored response (`GET /v1/responses/{id}`, cancel, delete, input
 * items): sent to the pod that produced it, with no queueing or scheduling (a lookup on one
 * known pod). An id this gateway did not see answered, or whose pod left, is a 404; a key
 * limited to some models may only reach responses made for one of them (403), as it may
 * only continue those.
 */
async function toStoredResponse(
  deps: GatewayDeps,
  homes: ResponseHomes,
  request: Request,
  id: string,
  opts: { upstreamPath: string; allowedModels: readonly string[] | undefined },
): Promise<Response> {
  const { upstreamPath, allowedModels } = opts;
  const home = homes.find(id);
  if (home && allowedModels && !allowedModels.includes(home.model))
    throw new GatewayError({
      status: 403,
      message: `This API key may not use the model ${quoted(home.model)}, which made the response ${quoted(id)}.`,
      param: "model",
      code: "model_not_allowed",
    });
  const endpoint = home ? deps.pools.get(home.pool)?.endpoints.get(home.endpoint) : undefined;
  if (!endpoint)
    throw new GatewayError({
      status: 404,
      message: `No response with id ${quoted(id)} is held by a pod behind this gateway (it was never answered here, or its pod left).`,
      param: "response_id",
      code: "response_not_found",
    });
  const settings = deps.config.current.settings;
  const search = new URL(request.url, "http://gateway").search;
  const headers = upstreamHeaders(request.headers, {
    forwardAuthorization: settings.upstream.forwardAuthorization,
  });
  const credential = settings.upstream.credential;
  if (credential?.value) headers.set(credential.header, credential.value);
  try {
    const res = await deps.fetch(`http://${endpoint.address}${upstreamPath}${search}`, {
      method: request.method,
      headers,
      signal: AbortSignal.any([request.signal, AbortSignal.timeout(settings.upstream.responseTimeoutMs)]),
    });
    const out = downstreamHeaders(res.headers);
    if (settings.endpointServedHeader) out.set(SERVED_BY_HEADER, endpoint.address);
    return new Response(res.body, { status: res.status, headers: out });
  } catch (err) {
    throw new GatewayError({
      status: 502,
      message: `The pod holding response ${quoted(id)} did not answer: ${err instanceof Error ? err.message : String(err)}`,
      code: "upstream_unreachable",
    });
  }
}
