import type { ErrorShape } from "../errors.ts";
import type { ApiKind } from "../request.ts";
import { AnthropicCountTokensSchema, AnthropicMessagesSchema } from "./anthropic.ts";
import { TRANSCRIPTION_FILE_FIELD, TranscriptionFormSchema } from "./audio.ts";
import { EmbeddingsSchema, RerankSchema, SCORE_PAIRS, ScoreSchema } from "./pooling.ts";
import { ResponsesSchema } from "./responses.ts";
import { ChatCompletionSchema, CompletionSchema } from "./schemas.ts";
import { DetokenizeSchema, TokenizeSchema } from "./tokenizer.ts";
import type { BodySchema, OneOf } from "./validate.ts";

/**
 * The inference routes the gateway serves, one table for routes/openai.ts, the parse stage
 * and docs/routes.md. Every route is routed by the body's `model` through the same stages
 * (auth, rewrite, flow control, scheduling); the table says what differs per API.
 */

/** How a route's streamed answer is framed (what usage accounting and model renaming read). */
export type StreamFormat =
  /** `data: {json}` lines ending with `data: [DONE]` (chat, completions, transcriptions). */
  | "openai-sse"
  /** Typed events (`event: response.created` ... `response.completed`); usage in `response.usage`. */
  | "responses-sse"
  /** Anthropic events (`message_start` ... `message_delta` with usage, `message_stop`). */
  | "anthropic-sse";

/** Where a route's answer reports tokens. */
export type UsageShape =
  /** `usage.prompt_tokens` / `usage.completion_tokens` (chat, completions, embeddings, rerank, score). */
  | "prompt-completion"
  /** `usage.input_tokens` / `usage.output_tokens` (responses, messages). */
  | "input-output"
  /** No token usage in the answer (tokenize, detokenize; transcriptions report audio seconds). */
  | "none";

/** What one API needs from the gateway; shared by all the paths that serve it. */
export interface ApiSpec {
  readonly kind: ApiKind;
  /** How the body is read: a JSON object, or a multipart form whose text fields become `body`. */
  readonly body: "json" | "multipart";
  /** Validates only what routing needs; every other field passes through untouched. */
  readonly schema: BodySchema;
  /** Alternative field groups of which the body must carry one (e.g. embeddings' `input` or `messages`). */
  readonly oneOf?: OneOf;
  /** The multipart file part the form must carry (transcriptions: `file`). */
  readonly file?: string;
  /** The framing of a streamed answer; absent when the API never streams. */
  readonly stream?: StreamFormat;
  /** Whether the body carries a prompt the prefix-cache scorer can hash (see prefix/prompt.ts). */
  readonly prompt: boolean;
  readonly usage: UsageShape;
  /** Error body: OpenAI's `{error:{message,type,param,code}}`, or Anthropic's `{type:"error",error:{type,message}}`. */
  readonly errors: ErrorShape;
}

/** One gateway route: an API served on one path. */
export interface RouteSpec extends ApiSpec {
  /** The gateway's path (the full path, e.g. `/v1/embeddings`). */
  readonly path: string;
  /** The pod's path: the same path, as vLLM serves each of these (`/v2/rerank` is Cohere v2's shape). */
  readonly upstreamPath: string;
}

const json = { body: "json", errors: "openai" } as const;

/** Each API's spec, by kind. */
export const APIS: { readonly [K in ApiKind]: ApiSpec & { readonly kind: K } } = {
  chat: {
    ...json,
    kind: "chat",
    schema: ChatCompletionSchema,
    stream: "openai-sse",
    prompt: true,
    usage: "prompt-completion",
  },
  completions: {
    ...json,
    kind: "completions",
    schema: CompletionSchema,
    stream: "openai-sse",
    prompt: true,
    usage: "prompt-completion",
  },
  embeddings: {
    ...json,
    kind: "embeddings",
    schema: EmbeddingsSchema,
    oneOf: [["input"], ["messages"]],
    prompt: true,
    usage: "prompt-completion",
  },
  responses: {
    ...json,
    kind: "responses",
    schema: ResponsesSchema,
    stream: "responses-sse",
    prompt: true,
    usage: "input-output",
  },
  messages: {
    body: "json",
    errors: "anthropic",
    kind: "messages",
    schema: AnthropicMessagesSchema,
    stream: "anthropic-sse",
    prompt: true,
    usage: "input-output",
  },
  rerank: { ...json, kind: "rerank", schema: RerankSchema, prompt: false, usage: "prompt-completion" },
  score: {
    ...json,
    kind: "score",
    schema: ScoreSchema,
    oneOf: SCORE_PAIRS,
    prompt: false,
    usage: "prompt-completion",
  },
  tokenize: {
    ...json,
    kind: "tokenize",
    schema: TokenizeSchema,
    oneOf: [["prompt"], ["messages"]],
    prompt: false,
    usage: "none",
  },
  detokenize: { ...json, kind: "detokenize", schema: DetokenizeSchema, prompt: false, usage: "none" },
  transcriptions: {
    body: "multipart",
    errors: "openai",
    kind: "transcriptions",
    schema: TranscriptionFormSchema,
    file: TRANSCRIPTION_FILE_FIELD,
    stream: "openai-sse",
    prompt: false,
    usage: "none",
  },
};

/** The gateway paths of each API, as vLLM serves them. */
const PATHS: { readonly [K in ApiKind]: readonly string[] } = {
  chat: ["/v1/chat/completions"],
  completions: ["/v1/completions"],
  embeddings: ["/v1/embeddings"],
  responses: ["/v1/responses"],
  messages: ["/v1/messages"],
  rerank: ["/v1/rerank", "/rerank", "/v2/rerank"],
  score: ["/v1/score", "/score"],
  tokenize: ["/tokenize"],
  detokenize: ["/detokenize"],
  // Translations (Whisper's translate task) take the same form and answer the same way.
  transcriptions: ["/v1/audio/transcriptions", "/v1/audio/translations"],
};

/**
 * Every POST route the gateway serves, for `for (const spec of ROUTES) app.post(spec.path, ...chain(spec))`.
 * The paths are full paths: mount the routes at `/`, not under `/v1`.
 */
export const ROUTES: readonly RouteSpec[] = [
  ...(Object.keys(PATHS) as ApiKind[]).flatMap((kind) =>
    PATHS[kind].map((path) => ({ ...APIS[kind], path, upstreamPath: path })),
  ),
  // vLLM's other pooling routes take the embeddings body (`/pooling` also a plugin's `data`)
  // and answer with the same usage: routed, validated and accounted as embeddings.
  {
    ...APIS.embeddings,
    oneOf: [["input"], ["messages"], ["data"]],
    path: "/pooling",
    upstreamPath: "/pooling",
  },
  { ...APIS.embeddings, path: "/classify", upstreamPath: "/classify" },
  // Anthropic's token count (Claude clients call it before a message): the Messages API's
  // body without max_tokens, answered with `{input_tokens}`; no stream, no prefill to cache.
  {
    ...APIS.messages,
    schema: AnthropicCountTokensSchema,
    stream: undefined,
    prompt: false,
    usage: "none",
    path: "/v1/messages/count_tokens",
    upstreamPath: "/v1/messages/count_tokens",
  },
];

/** The canonical route of a kind (its first path), for callers that name a kind only. */
export function routeOf(kind: ApiKind): RouteSpec {
  return ROUTES.find((r) => r.kind === kind)!;
}

/** The route served on a path, if any (e.g. for `app.onError` to pick the error shape). */
export function routeAt(path: string): RouteSpec | undefined {
  return ROUTES.find((r) => r.path === path);
}
