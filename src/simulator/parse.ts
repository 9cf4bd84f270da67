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

/** A valibot failure as a 400 naming the first bad field. */
export function invalid(issues: [v.BaseIssue<unknown>, ...v.BaseIssue<unknown>[]]): SimError {
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
  const param = api === "chat" ? "messages" : "prompt";
  const plan = planGeneration(o, {
    model: fields.model,
    prompt,
    param,
    requested: fields.max_completion_tokens ?? fields.max_tokens ?? undefined,
    random,
  });
  return {
    api,
    ...plan,
    stream: fields.stream ?? false,
    includeUsage: fields.stream_options?.include_usage ?? false,
  };
}

/** The model a request names: the base model when absent; 404 when the pod serves no such name. */
export function resolveModel(o: ResolvedOptions, model: string | null | undefined): string {
  const name = model ?? o.model;
  if (name !== o.model && !o.loras.includes(name)) {
    throw new SimError(404, `The model \`${name}\` does not exist.`, "model", "model_not_found");
  }
  return name;
}

/** A prompt longer than the context: vLLM's 400. */
export function checkPromptFits(o: ResolvedOptions, promptTokens: number, param: string): void {
  if (promptTokens > o.maxModelLen) {
    throw new SimError(
      400,
      `This model's maximum context length is ${o.maxModelLen} tokens. However, your request has ${promptTokens} input tokens. Please reduce the length of the input.`,
      param,
      "context_length_exceeded",
    );
  }
}

/**
 * Plans a generation: model (404 if not served), prompt tokens, output length. Output =
 * `requested` (finish "length") or the default (finish "stop"); prompt + output must fit
 * `maxModelLen`, as vLLM enforces. `param` names the prompt field in errors.
 */
export function planGeneration(
  o: ResolvedOptions,
  g: {
    model: string | null | undefined;
    prompt: string;
    param: string;
    requested: number | undefined;
    random: () => number;
    maxParam?: string;
  },
): Omit<ParsedRequest, "api" | "stream" | "includeUsage"> {
  const model = resolveModel(o, g.model);
  const { prompt, param, requested } = g;
  const promptTokens = countTokens(prompt);
  checkPromptFits(o, promptTokens, param);
  const room = o.maxModelLen - promptTokens;
  const fallback = o.defaultMaxTokens ?? 16 + Math.floor(g.random() * 113);
  const outputTokens = requested ?? Math.min(fallback, room);
  if (outputTokens < 1 || promptTokens + outputTokens > o.maxModelLen) {
    throw new SimError(
      400,
      `This model's maximum context length is ${o.maxModelLen} tokens. However, you requested ${promptTokens + outputTokens} tokens (${promptTokens} in the ${param}, ${outputTokens} in the completion). Please reduce the length of the ${param} or completion.`,
      requested === undefined ? param : (g.maxParam ?? "max_tokens"),
      "context_length_exceeded",
    );
  }
  return {
    model,
    adapter: model === o.model ? undefined : model,
    prompt,
    promptTokens,
    outputTokens,
    finishReason: requested === undefined ? "stop" : "length",
  };
}

export function contentText(
  content: string | Array<{ type: string; text?: string | null }> | null | undefined,
): string {
  if (typeof content === "string") return content;
  return (content ?? []).map((p) => (p.type === "text" ? (p.text ?? "") : "")).join("");
}
