import { describe, expect, test } from "bun:test";
import { createGateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { testConfig } from "../helpers/config.ts";
import { FakeTime } from "../helpers/fake-time.ts";
import { fakeUpstream } from "../helpers/fake-upstream.ts";

const ENDPOINTS = [{ name: "a", address: "10.0.0.1:8000", models: ["m"] }];

function gateway(settings: Record<string, unknown> = { endpoints: ENDPOINTS }) {
  const upstream = fakeUpstream();
  const gw = createGateway({ config: testConfig(settings), fetch: upstream.fetch, logger: silentLogger() });
  return { gw, upstream };
}

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  new Request(`http://gw${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

async function expectError(res: Response, status: number, param?: string | null) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toContain("application/json");
  const body = (await res.json()) as { error: Record<string, unknown> };
  expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
  expect(typeof body.error["message"]).toBe("string");
  if (param !== undefined) expect(body.error["param"]).toBe(param);
  return body.error;
}

describe("bad input gets an OpenAI error and a 4xx", () => {
  const chat = "/v1/chat/completions";
  test.each([
    ["malformed JSON", chat, "{not json", null],
    ["a JSON array", chat, "[1,2]", null],
    ["missing model", chat, { messages: [{ role: "user", content: "hi" }] }, "model"],
    ["model of the wrong type", chat, { model: 42, messages: [{ role: "user", content: "hi" }] }, "model"],
    ["missing messages", chat, { model: "m" }, "messages"],
    ["empty messages", chat, { model: "m", messages: [] }, "messages"],
    ["a message without role", chat, { model: "m", messages: [{ content: "hi" }] }, "messages[0].role"],
    [
      "stream not a boolean",
      chat,
      { model: "m", stream: "yes", messages: [{ role: "user", content: "x" }] },
      "stream",
    ],
    [
      "negative max_tokens",
      chat,
      { model: "m", max_tokens: -1, messages: [{ role: "user", content: "x" }] },
      "max_tokens",
    ],
    ["missing prompt", "/v1/completions", { model: "m" }, "prompt"],
    ["prompt of the wrong type", "/v1/completions", { model: "m", prompt: { text: "x" } }, "prompt"],
  ])("%s → 400", async (_name, path, body, param) => {
    const { gw, upstream } = gateway();
    const error = await expectError(await gw.fetch(post(path, body)), 400, param);
    expect(error["type"]).toBe("invalid_request_error");
    expect(upstream.calls.length).toBe(0);
  });

  test("a body over the limit → 413, declared or not", async () => {
    const { gw } = gateway({ endpoints: ENDPOINTS, maxBodyBytes: 2048 });
    const big = { model: "m", messages: [{ role: "user", content: "x".repeat(4096) }] };
    await expectError(await gw.fetch(post("/v1/chat/completions", big)), 413);
    const chunked = new Request("http://gw/v1/chat/completions", {
      method: "POST",
      body: new Blob([JSON.stringify(big)]).stream(),
      duplex: "half",
    } as RequestInit);
    chunked.headers.delete("content-length");
    await expectError(await gw.fetch(chunked), 413);
  });

  test("unknown path → 404", async () => {
    const { gw } = gateway();
    await expectError(await gw.fetch(new Request("http://gw/v1/nope")), 404);
  });

  test("a model no endpoint serves → 404 model_not_found", async () => {
    const { gw } = gateway();
    const e = await expectError(
      await gw.fetch(
        post("/v1/chat/completions", { model: "zzz", messages: [{ role: "user", content: "x" }] }),
      ),
      404,
      "model",
    );
    expect(e["code"]).toBe("model_not_found");
  });

  test("no endpoints at all → 503 with the dropped reason", async () => {
    const { gw } = gateway({});
    const res = await gw.fetch(
      post("/v1/chat/completions", { model: "m", messages: [{ role: "user", content: "x" }] }),
    );
    expect(res.headers.get("x-gateway-request-dropped-reason")).toBe("rejected-no-endpoints");
    await expectError(res, 503);
  });

  test("every endpoint unreachable → 503 after trying each once", async () => {
    const upstream = fakeUpstream(undefined, ["10.0.0."]);
    const gw = createGateway({
      config: testConfig({
        endpoints: [...ENDPOINTS, { name: "b", address: "10.0.0.2:8000", models: ["m"] }],
      }),
      fetch: upstream.fetch,
      logger: silentLogger(),
    });
    const res = await gw.fetch(
      post("/v1/chat/completions", { model: "m", messages: [{ role: "user", content: "x" }] }),
    );
    const e = await expectError(res, 503);
    expect(e["code"]).toBe("upstream_unreachable");
    expect(upstream.calls.map((c) => c.url).sort()).toEqual([
      "http://10.0.0.1:8000/v1/chat/completions",
      "http://10.0.0.2:8000/v1/chat/completions",
    ]);
    expect(gw.deps.inflight.total()).toBe(0);
  });
});

describe("hostile input stays small and timely", () => {
  test("a half-sent body is a 408 once the gateway's injected timer reaches bodyReadTimeoutMs", async () => {
    const time = new FakeTime();
    const upstream = fakeUpstream();
    const gw = createGateway({
      config: testConfig({ endpoints: ENDPOINTS, bodyReadTimeoutMs: 60_000 }),
      fetch: upstream.fetch,
      logger: silentLogger(),
      clock: time.clock,
      setTimer: time.setTimer,
    });
    const body = new ReadableStream<Uint8Array>({
      start: (c) => c.enqueue(new TextEncoder().encode('{"model":"m",')),
    });
    let res: Response | undefined;
    const pending = Promise.resolve(
      gw.fetch(
        new Request("http://gw/v1/chat/completions", { method: "POST", body, duplex: "half" } as RequestInit),
      ),
    ).then((r) => {
      res = r;
    });
    await time.advanceAsync(59_999);
    expect(res).toBeUndefined();
    await time.advanceAsync(1);
    await pending;
    const e = await expectError(res!, 408);
    expect(e["code"]).toBe("request_body_timeout");
    expect(upstream.calls.length).toBe(0);
  });

  test("a 1 MiB model name is quoted back cut, not whole", async () => {
    const { gw } = gateway();
    const model = "x".repeat(1 << 20);
    const res = await gw.fetch(
      post("/v1/chat/completions", { model, messages: [{ role: "user", content: "x" }] }),
    );
    const e = await expectError(res, 404);
    expect(String(e["message"]).length).toBeLessThan(500);
    expect(String(e["message"])).toContain(`(${1 << 20} characters)`);
  });
});
