import { describe, expect, test } from "bun:test";
import { GatewayError, toErrorResponse } from "../../src/errors.ts";
import { createResponseHomes, RESPONSE_ID_ROUTES, responseIdOf } from "../../src/openai/response-homes.ts";
import { APIS, ROUTES, routeAt, routeOf } from "../../src/openai/routes.ts";

describe("the route table", () => {
  test("every API has a route, every path is served once, and the pod is asked on the same path", () => {
    expect(new Set<string>(ROUTES.map((r) => r.kind))).toEqual(new Set<string>(Object.keys(APIS)));
    expect(new Set(ROUTES.map((r) => r.path)).size).toBe(ROUTES.length);
    for (const r of ROUTES) expect(r.upstreamPath).toBe(r.path);
    expect(routeOf("rerank").path).toBe("/v1/rerank");
    expect(routeAt("/v2/rerank")?.kind).toBe("rerank");
    expect(routeAt("/v1/messages")?.errors).toBe("anthropic");
    expect(routeAt("/v1/nope")).toBeUndefined();
  });

  test("only transcriptions (and translations, the same form) take a form, and it names the file part it needs", () => {
    expect(ROUTES.filter((r) => r.body === "multipart").map((r) => [r.path, r.file])).toEqual([
      ["/v1/audio/transcriptions", "file"],
      ["/v1/audio/translations", "file"],
    ]);
  });

  test("the response-id routes route by the stored response, with the id escaped in the pod's path", () => {
    const get = RESPONSE_ID_ROUTES.find((r) => r.method === "GET" && r.path === "/v1/responses/:id")!;
    expect(get.upstreamPath("resp_1")).toBe("/v1/responses/resp_1");
    expect(get.upstreamPath("a/../b")).toBe("/v1/responses/a%2F..%2Fb");
    const cancel = RESPONSE_ID_ROUTES.find((r) => r.method === "POST")!;
    expect(cancel.upstreamPath("r")).toBe("/v1/responses/r/cancel");
    for (const r of RESPONSE_ID_ROUTES) expect(r.routeBy).toBe("stored-response");
  });
});

describe("response homes", () => {
  const home = (endpoint: string) => ({ pool: "p", endpoint, model: "m" });

  test("remembers who answered, and forgets the least recently used beyond its bound", () => {
    const homes = createResponseHomes({ max: 2 });
    homes.remember("a", home("pod-a"));
    homes.remember("b", home("pod-b"));
    expect(homes.find("a")?.endpoint).toBe("pod-a"); // a is now the most recent
    homes.remember("c", home("pod-c"));
    expect(homes.find("b")).toBeUndefined();
    expect(homes.find("a")?.endpoint).toBe("pod-a");
    expect(homes.find("c")?.endpoint).toBe("pod-c");
  });

  test("the id is read from a Responses object and from a stream event's response", () => {
    expect(responseIdOf({ id: "resp_1", object: "response", output: [] })).toBe("resp_1");
    expect(responseIdOf({ type: "response.created", response: { id: "resp_2", object: "response" } })).toBe(
      "resp_2",
    );
    expect(responseIdOf({ id: "chatcmpl-1", object: "chat.completion" })).toBeUndefined();
    expect(responseIdOf({ type: "response.output_text.delta", delta: "x" })).toBeUndefined();
    expect(responseIdOf(null)).toBeUndefined();
  });
});

describe("error shapes", () => {
  test.each([
    [400, "invalid_request_error"],
    [401, "authentication_error"],
    [403, "permission_error"],
    [404, "not_found_error"],
    [408, "invalid_request_error"],
    [413, "request_too_large"],
    [429, "rate_limit_error"],
    [500, "api_error"],
    [502, "api_error"],
    [503, "overloaded_error"],
  ])("Anthropic's shape for a %d is %s, status and headers unchanged", async (status, type) => {
    const err = new GatewayError({ status, message: "why", headers: { "retry-after": "1" } });
    const res = toErrorResponse(err, {}, "anthropic");
    expect(res.status).toBe(status);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(await res.json()).toEqual({ type: "error", error: { type, message: "why" } });
  });

  test("OpenAI's shape stays the default", async () => {
    const res = toErrorResponse(new GatewayError({ status: 400, message: "why", param: "model" }));
    expect(await res.json()).toEqual({
      error: { message: "why", type: "invalid_request_error", param: "model", code: null },
    });
  });
});
