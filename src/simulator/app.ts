/**
 * HTTP routes of a simulated vLLM pod (vLLM's OpenAI server subset):
 * POST /v1/chat/completions, POST /v1/completions, GET /v1/models, GET /health,
 * GET /metrics. Every error leaves through `onError` as an OpenAI error body.
 *
 * Injected faults apply to the inference routes and /health; /metrics and /v1/models
 * keep answering so a scraper can still watch the misbehaving pod.
 */
import { Hono } from "hono";
import type { Engine } from "./engine.ts";
import { SimError } from "./errors.ts";
import { renderMetrics } from "./metrics.ts";
import { type Api, errorBody, modelList } from "./openai-format.ts";
import type { ResolvedOptions } from "./options.ts";
import { parseRequest } from "./parse.ts";
import { jsonResponse, streamResponse } from "./respond.ts";

export interface Fault {
  /** Answer every inference request and /health with this status. */
  status?: number;
  /** Wait this long (real ms, not scaled) before handling an inference request. */
  delayMs?: number;
  /** Cut responses after this many tokens (stream errors, JSON body truncated). */
  breakStreamAfterTokens?: number;
}

export interface AppDeps {
  options: ResolvedOptions;
  engine: Engine;
  fault(): Fault | undefined;
  /** A cancellable wait that close() also ends. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  closed(): boolean;
}

function injectedStatus(fault: Fault | undefined): void {
  if (fault?.status !== undefined) {
    throw new SimError(fault.status, `Injected fault: the simulator answers ${fault.status}.`);
  }
}

export function createApp(deps: AppDeps): Hono {
  const { options: o, engine } = deps;
  const app = new Hono();

  app.use(async function echoRequestId(c, next) {
    await next();
    const id = c.req.header("x-request-id");
    if (id) c.res.headers.set("x-request-id", id);
  });

  app.get("/health", (c) => {
    injectedStatus(deps.fault());
    return c.body(null, 200);
  });

  app.get("/metrics", (c) =>
    c.text(renderMetrics(engine.metricsState(Date.now() / 1000)), 200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
    }),
  );

  app.get("/v1/models", (c) => c.json(modelList(o.model, o.loras, o.maxModelLen)));

  const generate = (api: Api) =>
    async function handler(c: { req: { raw: Request } }): Promise<Response> {
      const raw = c.req.raw;
      if (deps.closed()) throw new SimError(503, "The simulator is closed.");
      const fault = deps.fault();
      if (fault?.delayMs) await deps.sleep(fault.delayMs, raw.signal);
      injectedStatus(fault);
      let body: unknown;
      try {
        body = await raw.json();
      } catch {
        throw new SimError(400, "The request body is not valid JSON.");
      }
      const request = parseRequest(api, body, o, o.random);
      const respond = {
        engine,
        request,
        signal: raw.signal,
        breakAfterTokens: fault?.breakStreamAfterTokens,
      };
      return request.stream ? streamResponse(respond) : jsonResponse(respond);
    };

  app.post("/v1/chat/completions", generate("chat"));
  app.post("/v1/completions", generate("completions"));

  app.notFound((c) =>
    c.json(
      errorBody({
        message: `No route for ${c.req.method} ${new URL(c.req.url).pathname}.`,
        type: "invalid_request_error",
        param: null,
        code: null,
      }),
      404,
    ),
  );

  app.onError((err, c) => {
    const e = err instanceof SimError ? err : new SimError(500, err.message || "Internal simulator error.");
    return c.json(errorBody(e), e.status as 400);
  });

  return app;
}
