import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Stack, startPoolPerPod } from "../helpers/stack.ts";

/**
 * Anthropic's `POST /v1/messages/count_tokens`, which vLLM serves beside `/v1/messages`
 * and Claude clients call before sending a message: routed by the body's model like the
 * message itself, answered `{input_tokens}`, errors in Anthropic's shape.
 */
let stack: Stack;

beforeAll(async () => {
  stack = await startPoolPerPod(
    ["opt", "qwen"],
    [{ model: "facebook/opt-125m" }, { model: "Qwen/Qwen3-8B" }],
    { endpointServedHeader: true },
  );
});

afterAll(() => stack.close());

const count = (body: unknown) =>
  fetch(`${stack.url}/v1/messages/count_tokens`, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
    body: JSON.stringify(body),
  });

test("count_tokens reaches the pod of the model's pool and answers input_tokens", async () => {
  const body = {
    model: "Qwen/Qwen3-8B",
    system: "be brief",
    messages: [{ role: "user", content: "Hello there" }],
  };
  const res = await count(body);
  expect(res.status).toBe(200);
  expect(res.headers.get("x-gateway-destination-endpoint-served")).toBe(`127.0.0.1:${stack.pods[1]!.port}`);
  const counted = (await res.json()) as { input_tokens: number };
  // The same prompt sent as a message reports the same input tokens.
  const sent = await fetch(`${stack.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...body, max_tokens: 1 }),
  });
  const message = (await sent.json()) as { usage: { input_tokens: number } };
  expect(counted.input_tokens).toBe(message.usage.input_tokens);
});

test("count_tokens refusals are in Anthropic's shape", async () => {
  const missing = await count({ model: "Qwen/Qwen3-8B" });
  expect(missing.status).toBe(400);
  expect(await missing.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
  const unknown = await count({ model: "nope", messages: [{ role: "user", content: "x" }] });
  expect(unknown.status).toBe(404);
  expect(await unknown.json()).toMatchObject({ type: "error", error: { type: "not_found_error" } });
});
