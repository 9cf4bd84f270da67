/**
 * OpenAI / vLLM wire shapes: chat and text completions, as JSON bodies and as SSE
 * chunks (`data: <json>\n\n`, closed by `data: [DONE]\n\n`), plus the model list and
 * the error body `{"error":{"message","type","param","code"}}`.
 */
import type { GenerationResult } from "./types.ts";

export type Api = "chat" | "completions";

const WORDS = ["hello", "world", "simulated", "tokens", "flow", "from", "a", "pod", "of", "vLLM"];

/** Output token `i`: one word, with a leading space after the first. Never empty. */
export function tokenText(i: number): string {
  const word = WORDS[i % WORDS.length]!;
  return i === 0 ? word : ` ${word}`;
}

export function outputText(tokens: number): string {
  let text = "";
  for (let i = 0; i < tokens; i++) text += tokenText(i);
  return text;
}

export function usageOf(r: GenerationResult) {
  return {
    prompt_tokens: r.promptTokens,
    completion_tokens: r.completionTokens,
    total_tokens: r.promptTokens + r.completionTokens,
    prompt_tokens_details: { cached_tokens: r.cachedTokens },
  };
}

/** Identity shared by every body and chunk of one response. */
export interface ResponseHead {
  api: Api;
  id: string;
  created: number;
  /** The model name as requested (base model or adapter). */
  model: string;
}

export function newHead(api: Api, model: string): ResponseHead {
  const prefix = api === "chat" ? "chatcmpl-" : "cmpl-";
  return {
    api,
    id: prefix + crypto.randomUUID().replaceAll("-", ""),
    created: Math.floor(Date.now() / 1000),
    model,
  };
}

function envelope(h: ResponseHead, chunk: boolean) {
  const object = h.api === "chat" ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion";
  return { id: h.id, object, created: h.created, model: h.model };
}

/** The non-streaming JSON body. */
export function completionBody(h: ResponseHead, r: GenerationResult) {
  const text = outputText(r.completionTokens);
  const choice =
    h.api === "chat"
      ? {
          index: 0,
          message: { role: "assistant", content: text },
          logprobs: null,
          finish_reason: r.finishReason,
        }
      : { index: 0, text, logprobs: null, finish_reason: r.finishReason };
  return { ...envelope(h, false), choices: [choice], usage: usageOf(r) };
}

const encoder = new TextEncoder();

export function sseFrame(data: unknown): Uint8Array {
  return encoder.encode(`data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
}

export const SSE_DONE = "[DONE]";

/** A typed SSE event (`event: <type>` then `data: <json>`), as the Responses and Anthropic APIs stream. */
export function eventFrame(type: string, data: unknown): Uint8Array {
  return encoder.encode(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** A fresh id: `prefix` then 32 hex digits. */
export function randomId(prefix: string): string {
  return prefix + crypto.randomUUID().replaceAll("-", "");
}

/** Streaming chunk builders; `usage: null` rides on every chunk when usage was asked for, as OpenAI does. */
export function chunkBuilder(h: ResponseHead, includeUsage: boolean) {
  const extra = includeUsage ? { usage: null } : {};
  const chunk = (choice: Record<string, unknown>) => ({ ...envelope(h, true), choices: [choice], ...extra });
  return {
    /** Chat only: the assistant role announcement, sent right before the first token. */
    role: () =>
      chunk({ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }),
    token: (i: number, finishReason: string | null) =>
      h.api === "chat"
        ? chunk({ index: 0, delta: { content: tokenText(i) }, logprobs: null, finish_reason: finishReason })
        : chunk({ index: 0, text: tokenText(i), logprobs: null, finish_reason: finishReason }),
    usage: (r: GenerationResult) => ({ ...envelope(h, true), choices: [], usage: usageOf(r) }),
  };
}

export function errorBody(e: { message: string; type: string; param: string | null; code: string | null }) {
  return { error: { message: e.message, type: e.type, param: e.param, code: e.code } };
}

export function modelList(base: string, loras: readonly string[], maxModelLen: number) {
  const created = Math.floor(Date.now() / 1000);
  const card = (id: string, parent: string | null) => ({
    id,
    object: "model",
    created,
    owned_by: "vllm",
    root: id,
    parent,
    max_model_len: maxModelLen,
  });
  return { object: "list", data: [card(base, null), ...loras.map((l) => card(l, base))] };
}
