import { describe, expect, test } from "bun:test";
import { type Parsed, parseApp, postJson } from "./parse-app.ts";

const app = parseApp();
const user = [{ role: "user", content: "hi" }];

describe("every JSON route accepts what its API takes, and passes the rest through", () => {
  test.each([
    ["chat", "/v1/chat/completions", { model: "m", messages: user, stream: true, top_k: 5 }, true],
    ["completions", "/v1/completions", { model: "m", prompt: [1, 2, 3] }, false],
    ["embeddings, a string", "/v1/embeddings", { model: "e", input: "embed me", dimensions: 8 }, false],
    ["embeddings, strings", "/v1/embeddings", { model: "e", input: ["a", "b"] }, false],
    ["embeddings, token ids", "/v1/embeddings", { model: "e", input: [[1, 2], [3]] }, false],
    ["embeddings, vLLM chat-style", "/v1/embeddings", { model: "e", messages: user }, false],
    ["embeddings ignore stream", "/v1/embeddings", { model: "e", input: "x", stream: true }, false],
    ["responses, a string", "/v1/responses", { model: "m", input: "hi", stream: true }, true],
    [
      "responses, items",
      "/v1/responses",
      {
        model: "m",
        instructions: "Be brief.",
        input: [{ role: "user", content: [{ type: "input_text", text: "hi" }] }],
      },
      false,
    ],
    ["messages", "/v1/messages", { model: "m", max_tokens: 16, messages: user, stream: true }, true],
    [
      "messages with system blocks",
      "/v1/messages",
      { model: "m", max_tokens: 1, system: [{ type: "text", text: "S" }], messages: user },
      false,
    ],
    ["rerank", "/v1/rerank", { model: "r", query: "q", documents: ["a", "b"], top_n: 1 }, false],
    ["rerank (Jina path)", "/rerank", { model: "r", query: "q", documents: ["a"] }, false],
    ["rerank (Cohere v2 path)", "/v2/rerank", { model: "r", query: "q", documents: ["a"] }, false],
    ["score, text_1/text_2", "/v1/score", { model: "r", text_1: "q", text_2: ["a", "b"] }, false],
    ["score, queries/documents", "/score", { model: "r", queries: ["q"], documents: ["a"] }, false],
    ["score, queries/items", "/v1/score", { model: "r", queries: "q", items: ["a"] }, false],
    ["tokenize, prompt", "/tokenize", { model: "m", prompt: "hello" }, false],
    ["tokenize, messages", "/tokenize", { model: "m", messages: user }, false],
    ["detokenize", "/detokenize", { model: "m", tokens: [1, 2, 3] }, false],
  ])("%s", async (_name, path, body, stream) => {
    const res = await app.request(postJson(path, body));
    expect(res.status).toBe(200);
    const parsed = (await res.json()) as Parsed;
    expect(parsed.path).toBe(path);
    expect(parsed.model).toBe(body.model);
    expect(parsed.stream).toBe(stream);
    expect(parsed.body).toEqual(body as Record<string, unknown>);
    expect(parsed.bytes).toBe(JSON.stringify(body).length);
  });

  test("a Responses request's previous_response_id is kept for routing", async () => {
    const res = await app.request(
      postJson("/v1/responses", { model: "m", input: "more", previous_response_id: "resp_1" }),
    );
    expect(((await res.json()) as Parsed).previousResponseId).toBe("resp_1");
    const none = await app.request(
      postJson("/v1/responses", { model: "m", input: "x", previous_response_id: null }),
    );
    expect(((await none.json()) as Parsed).previousResponseId).toBeUndefined();
  });
});

describe("every JSON route refuses a body it cannot route, naming the field", () => {
  test.each([
    ["embeddings without input", "/v1/embeddings", { model: "e" }, "input", "missing_required_parameter"],
    [
      "embeddings, input an object",
      "/v1/embeddings",
      { model: "e", input: { text: "x" } },
      "input",
      "invalid_value",
    ],
    ["embeddings, empty list", "/v1/embeddings", { model: "e", input: [] }, "input", "invalid_value"],
    ["embeddings without model", "/v1/embeddings", { input: "x" }, "model", "missing_required_parameter"],
    ["responses without input", "/v1/responses", { model: "m" }, "input", "missing_required_parameter"],
    ["responses, input a number", "/v1/responses", { model: "m", input: 3 }, "input", "invalid_value"],
    [
      "responses, stream a string",
      "/v1/responses",
      { model: "m", input: "x", stream: "yes" },
      "stream",
      "invalid_value",
    ],
    [
      "responses, previous_response_id empty",
      "/v1/responses",
      { model: "m", input: "x", previous_response_id: "" },
      "previous_response_id",
      "invalid_value",
    ],
    [
      "rerank without documents",
      "/v1/rerank",
      { model: "r", query: "q" },
      "documents",
      "missing_required_parameter",
    ],
    [
      "rerank, query a number",
      "/rerank",
      { model: "r", query: 1, documents: ["a"] },
      "query",
      "invalid_value",
    ],
    ["score without any pair", "/v1/score", { model: "r" }, "text_1", "missing_required_parameter"],
    [
      "score with half a pair",
      "/score",
      { model: "r", queries: ["q"] },
      "documents",
      "missing_required_parameter",
    ],
    ["score, text_2 empty", "/v1/score", { model: "r", text_1: "q", text_2: [] }, "text_2", "invalid_value"],
    ["tokenize without prompt", "/tokenize", { model: "m" }, "prompt", "missing_required_parameter"],
    ["tokenize without model", "/tokenize", { prompt: "x" }, "model", "missing_required_parameter"],
    ["detokenize without tokens", "/detokenize", { model: "m" }, "tokens", "missing_required_parameter"],
    ["detokenize, text tokens", "/detokenize", { model: "m", tokens: ["a"] }, "tokens[0]", "invalid_value"],
  ])("%s → 400", async (_name, path, body, param, code) => {
    const res = await app.request(postJson(path, body));
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: Record<string, unknown> };
    expect(error).toEqual({ message: expect.any(String), type: "invalid_request_error", param, code });
    expect(error["message"]).toContain(`'${param}'`);
  });

  test("a missing alternative says what else may be sent", async () => {
    const res = await app.request(postJson("/v1/embeddings", { model: "e" }));
    const { error } = (await res.json()) as { error: { message: string } };
    expect(error.message).toBe("Missing required parameter: 'input' (or send 'messages').");
  });

  test("a form sent to a JSON route is refused before its body is read, as OpenAI does", async () => {
    const form = new FormData();
    form.set("model", "m");
    const res = await app.request(new Request("http://gw/v1/embeddings", { method: "POST", body: form }));
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: Record<string, unknown> };
    expect(error["code"]).toBe("unsupported_content_type");
    expect(error["message"]).toContain("/v1/audio/transcriptions");
  });
});

describe("/v1/messages speaks Anthropic's required fields and error shape", () => {
  test.each([
    ["without max_tokens", { model: "m", messages: user }, "max_tokens"],
    ["max_tokens 0", { model: "m", max_tokens: 0, messages: user }, "max_tokens"],
    ["without messages", { model: "m", max_tokens: 8 }, "messages"],
    ["empty messages", { model: "m", max_tokens: 8, messages: [] }, "messages"],
    [
      "a message without content",
      { model: "m", max_tokens: 8, messages: [{ role: "user" }] },
      "messages[0].content",
    ],
    [
      "a block without type",
      { model: "m", max_tokens: 8, messages: [{ role: "user", content: [{ text: "x" }] }] },
      "messages[0].content",
    ],
    ["without model", { max_tokens: 8, messages: user }, "model"],
  ])("%s → 400 {type:'error', error:{type:'invalid_request_error'}}", async (_name, body, param) => {
    const res = await app.request(postJson("/v1/messages", body));
    expect(res.status).toBe(400);
    const json = (await res.json()) as { type: string; error: { type: string; message: string } };
    expect(Object.keys(json).sort()).toEqual(["error", "type"]);
    expect(json.type).toBe("error");
    expect(Object.keys(json.error).sort()).toEqual(["message", "type"]);
    expect(json.error.type).toBe("invalid_request_error");
    expect(json.error.message).toContain(`'${param}'`);
  });

  test("malformed JSON on /v1/messages is Anthropic-shaped too", async () => {
    const res = await app.request(postJson("/v1/messages", "{nope"));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { type: string }).type).toBe("error");
  });
});
