/**
 * POST /v1/responses and GET /v1/responses/{id} of a simulated vLLM pod.
 *
 * Prompt text = `system\n<instructions>\n` (when given), then the earlier turns when
 * `previous_response_id` names a response this pod stored (its input and output, the
 * previous instructions left out, as OpenAI specifies), then this turn's input items as
 * `role\ntext\n` (a string input is one user message). So a follow-up turn shares its
 * prefix with the turn before it and hits the pod's prefix cache. Output length:
 * `max_output_tokens` (then status "incomplete") or the simulator's default.
 *
 * `store` (default true) keeps the finished response in the pod's bounded store; an id
 * the pod does not hold (never stored, dropped, or on another pod) is a 404, as vLLM
 * answers it.
 */
import * as v from "valibot";
import { SimError } from "./errors.ts";
import { outputText, randomId } from "./openai-format.ts";
import type { ResolvedOptions } from "./options.ts";
import { invalid, planGeneration } from "./parse.ts";
import { eventStream, jsonOf, type RunContext } from "./respond.ts";
import type { ResponseStore } from "./response-store.ts";
import { newResponseHead, responseBody, responseEvents } from "./responses-format.ts";
import type { GenerationResult } from "./types.ts";

export interface ResponsesContext {
  options: ResolvedOptions;
  store: ResponseStore;
  run: RunContext;
}

const Part = v.looseObject({ type: v.string(), text: v.nullish(v.string()) });
const Item = v.looseObject({
  type: v.nullish(v.string()),
  role: v.nullish(v.string()),
  content: v.nullish(v.union([v.string(), v.array(Part)])),
});
const ResponsesSchema = v.looseObject({
  model: v.nullish(v.string()),
  input: v.union([v.string(), v.pipe(v.array(Item), v.minLength(1))]),
  instructions: v.nullish(v.string()),
  max_output_tokens: v.nullish(v.pipe(v.number(), v.integer(), v.minValue(1))),
  stream: v.nullish(v.boolean()),
  store: v.nullish(v.boolean()),
  previous_response_id: v.nullish(v.pipe(v.string(), v.minLength(1))),
});

/** Request fields the response object echoes back as sent. */
const ECHOED = [
  "temperature",
  "top_p",
  "metadata",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "truncation",
  "text",
  "user",
];

function itemText(item: v.InferOutput<typeof Item>): string {
  const raw = item as Record<string, unknown>;
  if (item.type === "function_call_output") return `tool\n${String(raw.output ?? "")}\n`;
  if (item.type === "function_call")
    return `assistant\n${String(raw.name ?? "")}(${String(raw.arguments ?? "")})\n`;
  const content =
    typeof item.content === "string" ? item.content : (item.content ?? []).map((p) => p.text ?? "").join("");
  return `${item.role ?? "user"}\n${content}\n`;
}

function notFound(id: string, param: string): SimError {
  return new SimError(404, `Response with id '${id}' not found.`, param);
}

export function createResponse(
  c: ResponsesContext,
  body: unknown,
  random: () => number,
): Response | Promise<Response> {
  const r = v.safeParse(ResponsesSchema, body);
  if (!r.success) throw invalid(r.issues);
  const b = r.output;
  let earlier = "";
  if (b.previous_response_id) {
    const prev = c.store.get(b.previous_response_id);
    if (!prev) throw notFound(b.previous_response_id, "previous_response_id");
    earlier = prev.context;
  }
  const input = typeof b.input === "string" ? `user\n${b.input}\n` : b.input.map(itemText).join("");
  const system = b.instructions ? `system\n${b.instructions}\n` : "";
  const plan = planGeneration(c.options, {
    model: b.model,
    prompt: system + earlier + input,
    param: "input",
    requested: b.max_output_tokens ?? undefined,
    maxParam: "max_output_tokens",
    random,
  });
  const sent = b as Record<string, unknown>;
  const echo = Object.fromEntries(ECHOED.filter((k) => sent[k] != null).map((k) => [k, sent[k]]));
  const head = newResponseHead({
    model: plan.model,
    instructions: b.instructions ?? null,
    max_output_tokens: b.max_output_tokens ?? null,
    previous_response_id: b.previous_response_id ?? null,
    store: b.store ?? true,
    echo,
  });
  const itemId = randomId("msg_");
  /** The final object, stored (with the conversation so far) unless `store: false`. */
  const finish = (result: GenerationResult) => {
    const final = responseBody(head, itemId, result);
    if (head.store) {
      const context = `${earlier}${input}assistant\n${outputText(result.completionTokens)}\n`;
      c.store.put(head.id, { body: final, context });
    }
    return final;
  };
  if (!b.stream) return jsonOf(c.run, plan, finish);
  const events = responseEvents(head, itemId);
  return eventStream(c.run, plan, {
    start: events.start,
    token: events.token,
    finish: (result) => events.finish(result, finish(result)),
  });
}

export function retrieveResponse(c: ResponsesContext, id: string): Response {
  if (!id.startsWith("resp")) {
    throw new SimError(
      400,
      `Invalid 'response_id': '${id}'. Expected an ID that begins with 'resp'.`,
      "response_id",
    );
  }
  const stored = c.store.get(id);
  if (!stored) throw notFound(id, "response_id");
  return Response.json(stored.body);
}
