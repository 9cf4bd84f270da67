/**
 * A gateway over `endpoints` pods serving model `m`, whose pod calls all answer one small chat
 * completion (no sockets), or what `answer` makes: for tests of what one JSON request does
 * inside the gateway.
 */
import { parseConfig } from "../../src/config/load.ts";
import { createGateway } from "../../src/gateway.ts";
import type { Logger } from "../../src/log.ts";

/** The pods' chat completion, as text. */
export const COMPLETION_TEXT = JSON.stringify({
  id: "c",
  object: "chat.completion",
  model: "m",
  choices: [{ index: 0, message: { role: "assistant", content: "Hi" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
});
const COMPLETION = new TextEncoder().encode(COMPLETION_TEXT);
const completion = () => new Response(COMPLETION, { headers: { "content-type": "application/json" } });

export function jsonGateway(
  endpoints: number,
  logger: Logger,
  answer: () => Response = completion,
  /** More GatewayConfig lines (e.g. `endpointServedHeader: true`). */
  more: readonly string[] = [],
): ReturnType<typeof createGateway> {
  const yaml = [
    "apiVersion: gateway.inference.dev/v1alpha1",
    "kind: GatewayConfig",
    ...more,
    "endpoints:",
    ...Array.from(
      { length: endpoints },
      (_, i) => `  - { name: pod-${i}, address: "127.0.0.1:${i + 1}", models: [m] }`,
    ),
  ].join("\n");
  return createGateway({
    config: parseConfig(yaml, "json-gateway.yaml"),
    logger,
    fetch: async () => answer(),
  });
}

/** A chat completion request for `model` with a declared length, as clients send it (`stream`: an SSE answer asked for). */
export function chatRequest(model = "m", stream = false): Request {
  const body = JSON.stringify({
    model,
    messages: [{ role: "user", content: "Hello" }],
    max_tokens: 16,
    ...(stream ? { stream: true } : {}),
  });
  return new Request("http://gw/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json", "content-length": String(body.length) },
    body,
  });
}
