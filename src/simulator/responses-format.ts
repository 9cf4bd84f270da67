/**
 * OpenAI Responses API wire shapes as vLLM serves them: the `response` object, its one
 * assistant message item, usage (`input_tokens`/`output_tokens`), and the typed stream
 * (`response.created`, `response.in_progress`, `response.output_item.added`,
 * `response.content_part.added`, `response.output_text.delta`..., `.done` events, then
 * `response.completed` carrying the final object and usage, also when it is incomplete,
 * as vLLM does). Every event has a `sequence_number` counting from 0.
 */
import { eventFrame, outputText, randomId, tokenText } from "./openai-format.ts";
import type { GenerationResult } from "./types.ts";

/** What the response object echoes from the request, and its identity. */
export interface ResponseHead {
  id: string;
  created_at: number;
  model: string;
  instructions: string | null;
  max_output_tokens: number | null;
  previous_response_id: string | null;
  store: boolean;
  /** Request fields echoed as sent (temperature, metadata, tools, ...). */
  echo: Record<string, unknown>;
}

export function newResponseHead(h: Omit<ResponseHead, "id" | "created_at">): ResponseHead {
  return { id: randomId("resp_"), created_at: Math.floor(Date.now() / 1000), ...h };
}

type ItemStatus = "in_progress" | "completed" | "incomplete";

function item(itemId: string, status: ItemStatus, text: string | undefined) {
  return {
    id: itemId,
    type: "message",
    role: "assistant",
    status,
    content: text === undefined ? [] : [part(text)],
  };
}

const part = (text: string) => ({ type: "output_text", text, annotations: [], logprobs: [] });

export function responseUsage(r: GenerationResult) {
  return {
    input_tokens: r.promptTokens,
    input_tokens_details: { cached_tokens: r.cachedTokens },
    output_tokens: r.completionTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: r.promptTokens + r.completionTokens,
  };
}

/** The response object: in progress (no result yet) or finished. */
export function responseBody(h: ResponseHead, itemId: string, r: GenerationResult | undefined) {
  const incomplete = r?.finishReason === "length";
  const status = r === undefined ? "in_progress" : incomplete ? "incomplete" : "completed";
  return {
    id: h.id,
    object: "response",
    created_at: h.created_at,
    status,
    error: null,
    incomplete_details: incomplete ? { reason: "max_output_tokens" } : null,
    instructions: h.instructions,
    max_output_tokens: h.max_output_tokens,
    model: h.model,
    output: r === undefined ? [] : [item(itemId, status as ItemStatus, outputText(r.completionTokens))],
    parallel_tool_calls: true,
    previous_response_id: h.previous_response_id,
    reasoning: null,
    store: h.store,
    temperature: 1,
    text: { format: { type: "text" } },
    tool_choice: "auto",
    tools: [],
    top_p: 1,
    truncation: "disabled",
    metadata: {},
    ...h.echo,
    usage: r === undefined ? null : responseUsage(r),
  };
}

/** Builds the stream's frames in order, numbering them. */
export function responseEvents(h: ResponseHead, itemId: string) {
  let seq = 0;
  const ev = (type: string, data: Record<string, unknown>) =>
    eventFrame(type, { type, sequence_number: seq++, ...data });
  const at = { item_id: itemId, output_index: 0, content_index: 0 };
  return {
    start: () => {
      const response = responseBody(h, itemId, undefined);
      return [ev("response.created", { response }), ev("response.in_progress", { response })];
    },
    token: (i: number) => [
      ...(i === 0
        ? [
            ev("response.output_item.added", {
              output_index: 0,
              item: item(itemId, "in_progress", undefined),
            }),
            ev("response.content_part.added", { ...at, part: part("") }),
          ]
        : []),
      ev("response.output_text.delta", { ...at, delta: tokenText(i), logprobs: [] }),
    ],
    finish: (r: GenerationResult, final: ReturnType<typeof responseBody>) => {
      const text = outputText(r.completionTokens);
      return [
        ev("response.output_text.done", { ...at, text, logprobs: [] }),
        ev("response.content_part.done", { ...at, part: part(text) }),
        ev("response.output_item.done", { output_index: 0, item: final.output[0] }),
        ev("response.completed", { response: final }),
      ];
    },
  };
}
