/**
 * HTTP routes of a simulated vLLM pod, as vLLM's OpenAI-compatible server serves them:
 * POST /v1/chat/completions, /v1/completions, /v1/responses (+ GET /v1/responses/{id}),
 * /v1/messages (and its count_tokens), /v1/audio/transcriptions and translations (generation models); POST /v1/embeddings,
 * /v1/score (/score), /v1/rerank (/rerank, /v2/rerank) (pooling models); POST /tokenize,
 * /detokenize (both); GET /v1/models, /health, /metrics. A route of the other runner is
 * a 400 ("The model does not support ... API."), as vLLM answers it. Every error leaves
 * through `onError`: an OpenAI error body, or Anthropic's on /v1/messages.
 *
 * Injected faults apply to the inference routes and /health; /metrics and /v1/models
 * keep answering so a scraper can still watch the misbehaving pod.
 */
import { Hono } from "hono";
import type { Engine } from "./engine.ts";
import { SimError } from "./errors.ts";
import { anthropicError, countMessageTokens, createMessage } from "./messages.ts";
import { renderMetrics } from "./metrics.ts";
import { errorBody, modelList } from "./openai-format.ts";
import type { ResolvedOptions } from "./options.ts";
import { parseRequest } from "./parse.ts";
import { embeddings, rerank, score } from "./pooling.ts";
import { jsonResponse, type RunContext, streamResponse } from "./respond.ts";
import { ResponseStore } from "./response-store.ts";
import { createResponse, retrieveResponse } from "./responses.ts";
import { detokenize, tokenize } from "./tokenize.ts";
import { Tokenizer } from "./tokenizer.ts";
import { readForm, transcribe } from "./transcriptions.ts";

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

/** The APIs a pod serves by runner, named as vLLM names them in its refusal. */
const APIS = {
  chat: ["generate", "Chat Completions"],
  completions: ["generate", "Completions"],
  responses: ["generate", "Responses"],
  messages: ["generate", "Messages"],
  transcriptions: ["generate", "Transcriptions"],
  embeddings: ["pooling", "Embeddings"],
  score: ["pooling", "Score"],
  rerank: ["pooling", "Rerank"],
  tokenize: [undefined, "Tokenize"],
} as const;
type Api = keyof typeof APIS;

function injectedStatus(fault: Fault | undefined): void {
  if (fault?.status !== undefined) {
    throw new SimError(fault.status, `Injected fault: the simulator answers ${fault.status}.`);
  }
}

async function readJson(raw: Request): Promise<unknown> {
  try {
    return await raw.json();
  } catch {
    throw new SimError(400, "The request body is not valid JSON.");
  }
}

export function createApp(deps: AppDeps): Hono {
  const { options: o, engine } = deps;
  const tokenizer = new Tokenizer();
  const store = new ResponseStore(o.maxStoredResponses);
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

  app.get("/metrics", (c) => {
    // `?name[]=a&name[]=b`: those samples only, as vLLM's prometheus_client serves them.
    const names = c.req.queries("name[]");
    return c.text(
      renderMetrics(engine.metricsState(Date.now() / 1000), names ? new Set(names) : undefined),
      200,
      { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
    );
  });

  app.get("/v1/models", (c) => c.json(modelList(o.model, o.loras, o.maxModelLen)));

  /** Closed, injected faults and the runner check, then the route's own work. */
  const serve = (api: Api, handle: (raw: Request, run: RunContext) => Response | Promise<Response>) =>
    async function handler(c: { req: { raw: Request } }): Promise<Response> {
      const raw = c.req.raw;
      if (deps.closed()) throw new SimError(503, "The simulator is closed.");
      const fault = deps.fault();
      if (fault?.delayMs) await deps.sleep(fault.delayMs, raw.signal);
      injectedStatus(fault);
      const [runner, name] = APIS[api];
      if (runner !== undefined && runner !== o.runner) {
        throw new SimError(400, `The model does not support ${name} API.`);
      }
      return handle(raw, { engine, signal: raw.signal, breakAfterTokens: fault?.breakStreamAfterTokens });
    };

  const completions = (api: "chat" | "completions") =>
    serve(api, async (raw, run) => {
      const request = parseRequest(api, await readJson(raw), o, o.random);
      return request.stream ? streamResponse({ ...run, request }) : jsonResponse({ ...run, request });
    });
  app.post("/v1/chat/completions", completions("chat"));
  app.post("/v1/completions", completions("completions"));

  const responses = { options: o, store };
  app.post(
    "/v1/responses",
    serve("responses", async (raw, run) =>
      createResponse({ ...responses, run }, await readJson(raw), o.random),
    ),
  );
  app.get(
    "/v1/responses/:id",
    serve("responses", (raw, run) =>
      retrieveResponse(
        { ...responses, run },
        decodeURIComponent(new URL(raw.url).pathname.slice("/v1/responses/".length)),
      ),
    ),
  );
  app.post(
    "/v1/messages",
    serve("messages", async (raw, run) => createMessage(o, run, await readJson(raw), o.random)),
  );
  app.post(
    "/v1/messages/count_tokens",
    serve("messages", async (raw) => countMessageTokens(o, await readJson(raw), o.random)),
  );
  app.post(
    "/v1/audio/transcriptions",
    serve("transcriptions", async (raw, run) => transcribe(o, run, await readForm(raw), o.random)),
  );
  app.post(
    "/v1/audio/translations",
    serve("transcriptions", async (raw, run) =>
      transcribe(o, run, await readForm(raw), o.random, "translate"),
    ),
  );

  const pooling = (api: "embeddings" | "score" | "rerank", run: typeof embeddings) =>
    serve(api, async (raw, ctx) => run({ options: o, tokenizer, run: ctx }, await readJson(raw)));
  app.post("/v1/embeddings", pooling("embeddings", embeddings));
  app.post(
    "/pooling",
    pooling("embeddings", (c, body) => embeddings(c, body, "pooling")),
  );
  app.post(
    "/classify",
    pooling("embeddings", (c, body) => embeddings(c, body, "classify")),
  );
  for (const path of ["/v1/score", "/score"]) app.post(path, pooling("score", score));
  for (const path of ["/v1/rerank", "/rerank", "/v2/rerank"]) app.post(path, pooling("rerank", rerank));

  app.post(
    "/tokenize",
    serve("tokenize", async (raw) => tokenize(o, tokenizer, await readJson(raw))),
  );
  app.post(
    "/detokenize",
    serve("tokenize", async (raw) => detokenize(o, tokenizer, await readJson(raw))),
  );

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
    const anthropic = new URL(c.req.url).pathname.startsWith("/v1/messages");
    return c.json(anthropic ? anthropicError(e) : errorBody(e), e.status as 400);
  });

  return app;
}
