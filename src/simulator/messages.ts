/**
 * POST /v1/messages of a simulated vLLM pod: Anthropic's Messages API, which vLLM serves.
 * `max_tokens` is required, as Anthropic requires it; the simulator generates that many
 * tokens (stop_reason "max_tokens"), as it does for max_tokens on the OpenAI routes.
 * Prompt text = `system\n<system>\n` (when given), then `role\ntext\n` per message, as
 * the chat route renders it. Streams Anthropic's events (message_start, content_block_start,
 * content_block_delta..., content_block_stop, message_delta with the output tokens,
 * message_stop). Errors on this route have Anthropic's shape (see anthropicError).
 * POST /v1/messages/count_tokens (vLLM serves it too) answers `{input_tokens}` for the same
 * prompt, without generating.
 */
import * as v from "valibot";
import type { SimError } from "./errors.ts";
import { eventFrame, outputText, randomId, tokenText } from "./openai-format.ts";
import type { ResolvedOptions } from "./options.ts";
import { invalid, planGeneration } from "./parse.ts";
import { eventStream, jsonOf, type RunContext } from "./respond.ts";
import type { GenerationResult } from "./types.ts";

const Block = v.looseObject({ type: v.string(), text: v.nullish(v.string()) });
const Content = v.union([v.string(), v.array(Block)]);
const MessagesSchema = v.looseObject({
  model: v.nullish(v.string()),
  max_tokens: v.pipe(v.number(), v.integer(), v.minValue(1)),
  messages: v.pipe(
    v.array(v.looseObject({ role: v.picklist(["user", "assistant"]), content: Content })),
    v.minLength(1),
  ),
  system: v.nullish(Content),
  stream: v.nullish(v.boolean()),
});

const CountSchema = v.looseObject({
  model: v.nullish(v.string()),
  messages: MessagesSchema.entries.messages,
  system: v.nullish(Content),
});

const text = (c: v.InferOutput<typeof Content>) =>
  typeof c === "string" ? c : c.map((b) => (b.type === "text" ? (b.text ?? "") : "")).join("");

const stopReason = (r: GenerationResult) => (r.finishReason === "length" ? "max_tokens" : "end_turn");

/** As vLLM fills it: input_tokens = the whole prompt (cached tokens included). */
function usage(r: GenerationResult) {
  return { input_tokens: r.promptTokens, output_tokens: r.completionTokens };
}

export function createMessage(
  o: ResolvedOptions,
  run: RunContext,
  body: unknown,
  random: () => number,
): Response | Promise<Response> {
  const r = v.safeParse(MessagesSchema, body);
  if (!r.success) throw invalid(r.issues);
  const b = r.output;
  const plan = planGeneration(o, {
    model: b.model,
    prompt: promptOf(b),
    param: "messages",
    requested: b.max_tokens,
    random,
  });
  const message = { id: randomId("msg_"), type: "message", role: "assistant", model: plan.model };
  if (!b.stream) {
    return jsonOf(run, plan, (res) => ({
      ...message,
      content: [{ type: "text", text: outputText(res.completionTokens) }],
      stop_reason: stopReason(res),
      stop_sequence: null,
      usage: usage(res),
    }));
  }
  const ev = (type: string, data: Record<string, unknown> = {}) => eventFrame(type, { type, ...data });
  return eventStream(run, plan, {
    start: () => [
      ev("message_start", {
        message: {
          ...message,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: plan.promptTokens, output_tokens: 0 },
        },
      }),
      ev("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
    ],
    token: (i) => [
      ev("content_block_delta", { index: 0, delta: { type: "text_delta", text: tokenText(i) } }),
    ],
    finish: (res) => [
      ev("content_block_stop", { index: 0 }),
      ev("message_delta", {
        delta: { stop_reason: stopReason(res), stop_sequence: null },
        usage: { output_tokens: res.completionTokens },
      }),
      ev("message_stop"),
    ],
  });
}

/** The prompt a Messages body renders to, as the chat route renders it. */
function promptOf(b: {
  system?: v.InferOutput<typeof Content> | null;
  messages: { role: string; content: v.InferOutput<typeof Content> }[];
}): string {
  const system = b.system ? `system\n${text(b.system)}\n` : "";
  return system + b.messages.map((m) => `${m.role}\n${text(m.content)}\n`).join("");
}

/** POST /v1/messages/count_tokens: `{input_tokens}` of the prompt a Messages body would send. */
export function countMessageTokens(o: ResolvedOptions, body: unknown, random: () => number): Response {
  const r = v.safeParse(CountSchema, body);
  if (!r.success) throw invalid(r.issues);
  const plan = planGeneration(o, {
    model: r.output.model,
    prompt: promptOf(r.output),
    param: "messages",
    requested: 1,
    random,
  });
  return Response.json({ input_tokens: plan.promptTokens });
}

/** Anthropic's error body: `{"type":"error","error":{"type","message"}}`, its type chosen by status. */
export function anthropicError(e: SimError) {
  const type =
    e.status === 404
      ? "not_found_error"
      : e.status === 401
        ? "authentication_error"
        : e.status === 429
          ? "rate_limit_error"
          : e.status === 503 || e.status === 529
            ? "overloaded_error"
            : e.status < 500
              ? "invalid_request_error"
              : "api_error";
  return { type: "error", error: { type, message: e.message } };
}
