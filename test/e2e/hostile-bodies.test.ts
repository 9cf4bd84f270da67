import { afterEach, describe, expect, test } from "bun:test";
import { waitFor } from "../helpers/stack.ts";
import { chatBody, type HostileStack, MODEL, raw, startHostile } from "./hostile-kit.ts";

/**
 * Bad bodies and half-sent bodies on a real port: always an OpenAI error and a 4xx,
 * never a crash, a hang, a 500 or an "unhandled error" log line; nothing reaches a pod.
 */
let stack: HostileStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const post = (url: string, body: BodyInit, headers: Record<string, string> = {}) =>
  fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });

const unhandled = (s: HostileStack) => s.logs.filter((l) => l["level"] === "error");

const BAD_BODIES: [string, BodyInit, number, string | null][] = [
  ["not JSON", "{model: m", 400, "invalid_json"],
  ["empty", "", 400, "invalid_json"],
  ["a JSON string", '"hello"', 400, "invalid_json"],
  ["null", "null", 400, "invalid_json"],
  ["nested 100,000 deep", `${"[".repeat(100_000)}${"]".repeat(100_000)}`, 400, "invalid_json"],
  ["invalid UTF-8", new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 400, "invalid_json"],
  [
    "model a number",
    JSON.stringify({ model: 7, messages: [{ role: "user", content: "x" }] }),
    400,
    "invalid_value",
  ],
  ["model an object", JSON.stringify({ model: { $ne: 1 }, messages: [] }), 400, "invalid_value"],
  ["messages a string", JSON.stringify({ model: MODEL, messages: "hi" }), 400, "invalid_value"],
  [
    "__proto__ pollution",
    `{"model":"${MODEL}","messages":[{"role":"user","content":"x"}],"__proto__":{"admin":true}}`,
    200,
    null,
  ],
];

describe("hostile clients: bodies", () => {
  test("malformed, odd and hostile bodies get an OpenAI 4xx; none reaches a pod", async () => {
    stack = await startHostile();
    const s = stack;
    for (const [name, body, status, code] of BAD_BODIES) {
      const res = await post(s.url, body);
      const json = (await res.json()) as { error?: { code: string; message: string } };
      expect({ name, status: res.status }).toEqual({ name, status });
      if (code) expect({ name, code: json.error?.code }).toEqual({ name, code });
    }
    expect({} as Record<string, unknown>).not.toHaveProperty("admin");
    // Only the one well-formed body (with a harmless __proto__ key) reached a pod.
    expect(s.pods.reduce((n, p) => n + p.requests.length, 0)).toBe(1);
    expect(unhandled(s)).toEqual([]);
  });

  test("a body over maxBodyBytes is a 413, declared or chunked, without reading it all", async () => {
    stack = await startHostile({ settings: { maxBodyBytes: 4096 } });
    const s = stack;
    const big = JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "x".repeat(10_000) }] });
    expect((await post(s.url, big)).status).toBe(413);
    const chunked = new ReadableStream<Uint8Array>({
      pull(c) {
        c.enqueue(new TextEncoder().encode("x".repeat(1024)));
      },
    });
    const res = await fetch(`${s.url}/v1/chat/completions`, {
      method: "POST",
      body: chunked,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("maxBodyBytes");
  });

  test("a half-sent body is a 408 after bodyReadTimeoutMs, with an OpenAI error body", async () => {
    stack = await startHostile({ settings: { bodyReadTimeoutMs: 200 } });
    const s = stack;
    const body = chatBody();
    const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const res = await raw(s.port, [head, body.slice(0, 10)]);
    expect(res.status).toBe(408);
    const json = JSON.parse(res.body) as { error: { code: string; message: string } };
    expect(json.error.code).toBe("request_body_timeout");
    expect(json.error.message).toContain("bodyReadTimeoutMs");
    // Chunked and dribbling: the limit is on the whole body, not between chunks.
    const chunkedHead =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    const chunked = await raw(s.port, [chunkedHead, "1\r\n{\r\n"]);
    expect(chunked.status).toBe(408);
    expect(s.pods.reduce((n, p) => n + p.requests.length, 0)).toBe(0);
  });

  test("clients that hang up mid-body are ordinary 499s: no error log lines, nothing held", async () => {
    stack = await startHostile();
    const s = stack;
    const body = chatBody();
    const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const clients = 200;
    await Promise.all(
      Array.from({ length: clients }, () => raw(s.port, [head, body.slice(0, 20)], { hangUp: true })),
    );
    await waitFor(() => s.logs.filter((l) => l["msg"] === "request").length === clients);
    const lines = s.logs.filter((l) => l["msg"] === "request");
    expect(lines.every((l) => l["status"] === 499 && l["level"] === "info")).toBe(true);
    expect(unhandled(s)).toEqual([]);
    expect(s.gateway.deps.inflight.total()).toBe(0);
    // The gateway still serves.
    expect((await post(s.url, chatBody())).status).toBe(200);
  });

  test("an HTTP/1.0 request without Host keeps its path: routed, and named whole in a 404", async () => {
    stack = await startHostile();
    const s = stack;
    const notFound = await raw(s.port, ["GET /v1/nothing-here HTTP/1.0\r\n\r\n"]);
    expect(notFound.status).toBe(404);
    expect(JSON.parse(notFound.body).error.message).toContain("GET /v1/nothing-here");
    const body = chatBody();
    const ok = await raw(s.port, [
      `POST /v1/chat/completions HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    ]);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body).model).toBe(MODEL);
  });
});
