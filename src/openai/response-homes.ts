/**
 * Responses API state lives on the pod that produced a response (vLLM keeps stored
 * responses in that server's memory). Two kinds of request must reach that pod:
 * `POST /v1/responses` with `previous_response_id`, and the routes below that name a
 * response id in the path and carry no model to route by. The gateway remembers, per
 * response id, the pool and endpoint that answered; this file holds that memory and the
 * id routes. Wiring (recording ids from answers, routing by them) is the gateway's.
 */

/** Where a stored response lives. */
export interface ResponseHome {
  /** The InferencePool the answering endpoint belongs to. */
  readonly pool: string;
  /** The endpoint's name. */
  readonly endpoint: string;
  /** The model the pod served it with (after rewrite): labels metrics on id routes. */
  readonly model: string;
}

/** The narrow interface routing needs: remember who answered, find it again. */
export interface ResponseHomes {
  remember(id: string, home: ResponseHome): void;
  /** undefined: not answered through this gateway replica, or forgotten (bounded memory). */
  find(id: string): ResponseHome | undefined;
}

/**
 * A bounded memory of response homes: at most `max` ids, the least recently used
 * forgotten first (a forgotten id is a 404 on id routes, and ordinary scheduling for a
 * `previous_response_id`, where the pod then says whether it knows it).
 */
export function createResponseHomes(opts: { max?: number } = {}): ResponseHomes {
  const max = opts.max ?? 100_000;
  const homes = new Map<string, ResponseHome>();
  return {
    remember(id, home) {
      homes.delete(id);
      homes.set(id, home);
      if (homes.size > max) homes.delete(homes.keys().next().value!);
    },
    find(id) {
      const home = homes.get(id);
      if (home !== undefined) {
        homes.delete(id);
        homes.set(id, home);
      }
      return home;
    },
  };
}

/** A route that names a stored response in its path instead of carrying a model. */
export interface ResponseIdRoute {
  readonly method: "GET" | "POST" | "DELETE";
  /** Hono pattern; the id is the `id` parameter. */
  readonly path: string;
  /** The pod's path for a response id. */
  upstreamPath(id: string): string;
  /** How to route it: to the endpoint `ResponseHomes.find(id)` names, 404 when unknown. */
  readonly routeBy: "stored-response";
}

const at = (suffix: string) => (id: string) => `/v1/responses/${encodeURIComponent(id)}${suffix}`;

/**
 * The Responses API's id routes: vLLM serves retrieve and cancel; OpenAI also has delete
 * and input items, which are forwarded too (a pod that lacks them answers 404 itself).
 * No flow control or scheduling: they are cheap lookups on one known pod.
 */
export const RESPONSE_ID_ROUTES: readonly ResponseIdRoute[] = [
  { method: "GET", path: "/v1/responses/:id", upstreamPath: at(""), routeBy: "stored-response" },
  { method: "DELETE", path: "/v1/responses/:id", upstreamPath: at(""), routeBy: "stored-response" },
  {
    method: "POST",
    path: "/v1/responses/:id/cancel",
    upstreamPath: at("/cancel"),
    routeBy: "stored-response",
  },
  {
    method: "GET",
    path: "/v1/responses/:id/input_items",
    upstreamPath: at("/input_items"),
    routeBy: "stored-response",
  },
];

/**
 * The response id in an answer: a Responses object's `id` (non-streamed), or the `id` of
 * the `response` carried by a stream event (`response.created` is the first). undefined
 * when the value is neither.
 */
export function responseIdOf(answer: unknown): string | undefined {
  if (answer === null || typeof answer !== "object") return undefined;
  const o = answer as Record<string, unknown>;
  const inner = o["response"];
  if (inner !== null && typeof inner === "object") return responseIdOf(inner);
  return o["object"] === "response" && typeof o["id"] === "string" && o["id"] ? o["id"] : undefined;
}
