/**
 * Token usage as each API family reports it, and which family a route speaks.
 *
 * - OpenAI (chat, completions, embeddings and the other vLLM JSON routes):
 *   `usage.prompt_tokens`, `usage.completion_tokens` (absent for embeddings: 0),
 *   `usage.prompt_tokens_details.cached_tokens`; a usage with only `total_tokens` (older
 *   vLLM rerank) counts it as prompt tokens.
 * - Responses API: `usage.input_tokens`, `usage.output_tokens`,
 *   `usage.input_tokens_details.cached_tokens`.
 * - Anthropic Messages: `usage.input_tokens`, `usage.output_tokens`,
 *   `usage.cache_read_input_tokens`.
 */

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
}

/** How a route's answers (JSON and stream) are shaped. */
export type Dialect = "openai" | "responses" | "messages";

const DIALECTS: Partial<Record<string, Dialect>> = { responses: "responses", messages: "messages" };

/** The dialect of an ApiKind: `responses` and `messages` have their own, every other route OpenAI's. */
export function dialectOf(kind: string): Dialect {
  return DIALECTS[kind] ?? "openai";
}

type Raw = Record<string, unknown>;
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
const obj = (v: unknown): Raw | undefined => (v && typeof v === "object" ? (v as Raw) : undefined);

/** The usage object of an answer in `dialect`, or undefined when it has none that counts. */
export function usageOf(dialect: Dialect, raw: unknown): Usage | undefined {
  const u = obj(raw);
  if (!u) return undefined;
  if (dialect === "openai") {
    // vLLM's rerank answered `{"total_tokens": N}` alone before it added prompt_tokens: with no
    // completion either, the total is all prompt (pooling models generate nothing).
    const prompt =
      num(u["prompt_tokens"]) ?? (u["completion_tokens"] === undefined ? num(u["total_tokens"]) : undefined);
    if (prompt === undefined) return undefined;
    return {
      promptTokens: prompt,
      completionTokens: num(u["completion_tokens"]) ?? 0,
      cachedTokens: num(obj(u["prompt_tokens_details"])?.["cached_tokens"]) ?? 0,
    };
  }
  const input = num(u["input_tokens"]);
  const output = num(u["output_tokens"]);
  if (input === undefined || output === undefined) return undefined;
  const cached =
    dialect === "responses"
      ? num(obj(u["input_tokens_details"])?.["cached_tokens"])
      : num(u["cache_read_input_tokens"]);
  return { promptTokens: input, completionTokens: output, cachedTokens: cached ?? 0 };
}
