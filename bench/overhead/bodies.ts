/** The overhead benchmark's request bodies (run.ts sends them; body-micro.ts times their handling). */

export const SMALL = {
  model: "m",
  messages: [{ role: "user", content: "Hello, how are you today? Please answer briefly." }],
  max_tokens: 16,
};

/** A chat body of `bytes` bytes of JSON in all: SMALL with one long user message of words and numbers. */
export function bigBody(bytes: number) {
  const words = [
    "context",
    "tokens",
    "prefix",
    "cache",
    "pod",
    "gateway",
    "stream",
    "model",
    "batch",
    "queue",
  ];
  const base = JSON.stringify({ ...SMALL, messages: [{ role: "user", content: "" }] }).length;
  let text = "";
  for (let i = 0; text.length < bytes - base; i++) text += `${words[i % words.length]} ${i} `;
  return { ...SMALL, messages: [{ role: "user", content: text.slice(0, bytes - base) }] };
}

const sse = (obj: unknown) => `data: ${JSON.stringify(obj)}\n\n`;
const streamChunk = (delta: object, finish: string | null) =>
  sse({
    id: "chatcmpl-bench",
    object: "chat.completion.chunk",
    created: 1700000000,
    model: "m",
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  });

/**
 * A streamed chat answer as the mock pod sends sse32's (stream-micro.ts, stream-relay-whole.ts):
 * its events, each `data: ...` with its blank line: a role chunk, 20 tokens, the finish, the
 * usage event and `[DONE]`.
 */
export const STREAM_EVENTS: readonly string[] = [
  streamChunk({ role: "assistant", content: "" }, null),
  ...Array.from({ length: 20 }, () => streamChunk({ content: " tok" }, null)),
  streamChunk({}, "stop"),
  sse({
    id: "chatcmpl-bench",
    object: "chat.completion.chunk",
    created: 1700000000,
    model: "m",
    choices: [],
    usage: { prompt_tokens: 12, completion_tokens: 20, total_tokens: 32 },
  }),
  "data: [DONE]\n\n",
];

/**
 * A client's request headers as the gateway receives them: wrk's few (`small`) or a typical SDK
 * client's, with a credential (the reqhead benches).
 */
export function clientHeaders(small: boolean): Headers {
  return new Request("http://gw/v1/chat/completions", {
    method: "POST",
    headers: small
      ? { host: "127.0.0.1:8080", "content-type": "application/json", "content-length": "120" }
      : {
          host: "127.0.0.1:8080",
          "user-agent": "python-httpx/0.27",
          accept: "application/json",
          "content-type": "application/json",
          "content-length": "120",
          authorization: "Bearer client-key",
        },
  }).headers;
}

/** The mock pod's JSON answer body (upstream.ts serves it; the wire benches parse it). */
export function completionJson(model = "m"): string {
  return JSON.stringify({
    id: "chatcmpl-bench",
    object: "chat.completion",
    created: 1700000000,
    model,
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: "Hello! How can I help you today?" },
        logprobs: null,
        finish_reason: "stop",
      },
    ],
    usage: { prompt_tokens: 12, completion_tokens: 9, total_tokens: 21 },
  });
}

/** That answer as the bytes a pod sends: head (with a Date) and body, for the wire client's parser. */
export function wireAnswer(model = "m"): Buffer {
  const body = completionJson(model);
  return Buffer.from(
    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n" +
      "Date: Sun, 06 Dec 2026 07:00:00 GMT\r\n" +
      `Content-Length: ${body.length}\r\n\r\n${body}`,
    "latin1",
  );
}
