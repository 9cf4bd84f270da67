/**
 * Validates a chat or text completion request and turns it into what the engine needs:
 * prompt text, token counts (1 token = 4 characters) and output length.
 *
 * Chat prompt text = for each message, `role + "\n" + text content + "\n"` (string
 * content or the `text` of text parts). Output length = `max_completion_tokens` ??
 * `max_tokens` (finish_reason "length") or the default (finish_reason "stop"), and prompt
 * + output must fit `maxModelLen`, as vLLM enforces.
 */
import * as v from "valibot";
import { SimError } from "./errors.ts";
import type { Api } from "./openai-format.ts";
import type { ResolvedOptions } from "./options.ts";
import { countTokens } from "./prefix-cache.ts";

const PositiveInt = v.nullish(v.pipe(v.number(), v.integer(), v.minValue(1)));

const Common = {
  model: v.nullish(v.string()),
  stream: v.nullish(v.boolean()),
  stream_options: v.nullish(v.looseObject({ include_usage: v.nullish(v.boolean()) })),
  max_tokens: PositiveInt,
  max_completion_tokens: PositiveInt,
};

const TextPart = v.looseObject({ type: v.string(), text: v.nullish(v.string()) });
const Message = v.looseObject({
  role: v.string(),
  content: v.nullish(v.union([v.string(), v.array(TextPart)])),
});

const ChatSchema = v.looseObject({ ...Common, messages: v.pipe(v.array(Message), v.minLength(1)) });
const CompletionSchema = v.looseObject({
  ...Common,
  prompt: v.union([v.string(), v.pipe(v.array(v.string()), v.minLength(1), v.maxLength(1))]),
});

export interface ParsedRequest {
  api: Api;
  /** The requested model name (base or adapter). */
  model: string;
  adapter: string | undefined;
  prompt: string;
  promptTokens: number;
  outputTokens: number;
  finishReason: "stop" | "length";
  stream: boolean;
  includeUsage: boolean;
}

function invalid(issues: [v.BaseIssue<unknown>, ...v.BaseIssue<unknown>[]]): SimError {
  const issue = issues[0];
  const path = v.getDotPath(issue);
  return new SimError(400, path ? `${path}: ${issue.message}` : issue.message, path);
}

export function parseRequest(
  api: Api,
  body: unknown,
  o: ResolvedOptions,
  random: () => number,
): ParsedRequest {
  let prompt: string;
  let fields: v.InferOutput<typeof ChatSchema> | v.InferOutput<typeof CompletionSchema>;
  if (api === "chat") {
    const r = v.safeParse(ChatSchema, body);
    if (!r.success) throw invalid(r.issues);
    fields = r.output;
    prompt = r.output.messages.map((m) => `${m.role}\n${contentText(m.content)}\n`).join("");
  } else {
    const r = v.safeParse(CompletionSchema, body);
    if (!r.success) throw invalid(r.issues);
    fields = r.output;
    prompt = typeof r.output.prompt === "string" ? r.output.prompt : r.output.prompt[0]!;
  }
  const model = fields.model ?? o.model;
  if (model !== o.model && !o.loras.includes(model)) {
    throw new SimError(404, `The model \`${model}\` does not exist.`, "model", "model_not_found");
  }
  const promptTokens = countTokens(prompt);
  const param = api === "chat" ? "messages" : "prompt";
  if (promptTokens > o.maxModelLen) {
    throw new SimError(
      400,
      `This model's maximum context length is ${o.maxModelLen} tokens. However, your request has ${promptTokens} input tokens. Please reduce the length of the input.`,
      param,
      "context_length_exceeded",
    );
  }
  const requested = fields.max_completion_tokens ?? fields.max_tokens ?? undefined;
  const room = o.maxModelLen - promptTokens;
  const fallback = o.defaultMaxTokens ?? 16 + Math.floor(random() * 113);
  const outputTokens = requested ?? Math.min(fallback, room);
  if (outputTokens < 1 || promptTokens + outputTokens > o.maxModelLen) {
    throw new SimError(
      400,
      `This model's maximum context length is ${o.maxModelLen} tokens. However, you requested ${promptTokens + outputTokens} tokens (${promptTokens} in the ${param}, ${outputTokens} in the completion). Please reduce the length of the ${param} or completion.`,
      requested === undefined ? param : "max_tokens",
      "context_length_exceeded",
    );
  }
  return {
    api,
    model,
    adapter: model === o.model ? undefined : model,
    prompt,
    promptTokens,
    outputTokens,
    finishReason: requested === undefined ? "stop" : "length",
    stream: fields.stream ?? false,
    includeUsage: fields.stream_options?.include_usage ?? false,
  };
}

function contentText(
  content: string | Array<{ type: string; text?: string | null }> | null | undefined,
): string {
  if (typeof content === "string") return content;
  return (content ?? []).map((p) => (p.type === "text" ? (p.text ?? "") : "")).join("");
}
