import { describe, expect, test } from "bun:test";
import { usageOf } from "../../src/proxy/usage.ts";

describe("usage per API family", () => {
  test("OpenAI: prompt and completion tokens, cached from the details", () => {
    expect(
      usageOf("openai", {
        prompt_tokens: 7,
        completion_tokens: 3,
        prompt_tokens_details: { cached_tokens: 4 },
      }),
    ).toEqual({ promptTokens: 7, completionTokens: 3, cachedTokens: 4 });
  });

  test("older vLLM rerank reports only total_tokens: it counts as prompt tokens", () => {
    expect(usageOf("openai", { total_tokens: 12 })).toEqual({
      promptTokens: 12,
      completionTokens: 0,
      cachedTokens: 0,
    });
    // With completion tokens the total is not all prompt: no guess.
    expect(usageOf("openai", { total_tokens: 12, completion_tokens: 5 })).toBeUndefined();
  });

  test("Responses and Anthropic Messages: input and output tokens", () => {
    expect(
      usageOf("responses", { input_tokens: 5, output_tokens: 2, input_tokens_details: { cached_tokens: 1 } }),
    ).toEqual({ promptTokens: 5, completionTokens: 2, cachedTokens: 1 });
    expect(usageOf("messages", { input_tokens: 5, output_tokens: 2, cache_read_input_tokens: 3 })).toEqual({
      promptTokens: 5,
      completionTokens: 2,
      cachedTokens: 3,
    });
  });
});
