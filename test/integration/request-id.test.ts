import { describe, expect, test } from "bun:test";
import { createGateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { ROUTES } from "../../src/openai/routes.ts";
import { testConfig } from "../helpers/config.ts";
import { fakeUpstream } from "../helpers/fake-upstream.ts";

const ENDPOINTS = [{ name: "a", address: "10.0.0.1:8000", models: ["m"] }];

function gateway() {
  const upstream = fakeUpstream();
  return createGateway({
    config: testConfig({ endpoints: ENDPOINTS }),
    fetch: upstream.fetch,
    logger: silentLogger(),
  });
}

/** Every method and path the app serves, its parameters filled in. */
function servedRoutes(gw: ReturnType<typeof gateway>): { method: string; path: string }[] {
  const seen = new Map<string, { method: string; path: string }>();
  for (const r of gw.app.routes) {
    if (r.method === "ALL") continue;
    const path = r.path.replace(/:id\{[^}]*\}/, "m").replace(/:id/, "resp_unknown");
    seen.set(`${r.method} ${path}`, { method: r.method, path });
  }
  return [...seen.values()];
}

function request(method: string, path: string, id?: string): Request {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (id) headers["x-request-id"] = id;
  const body =
    method === "GET" || method === "HEAD" ? undefined : JSON.stringify({ model: "m", messages: [] });
  return new Request(`http://gw${path}`, { method, headers, ...(body ? { body } : {}) });
}

describe("x-request-id on every answer", () => {
  test("every route echoes the client's id, answered or refused", async () => {
    const gw = gateway();
    const routes = servedRoutes(gw);
    // Health, metrics, models, dashboard, the inference table and the stored-response routes.
    expect(routes.length).toBeGreaterThan(ROUTES.length + 5);
    for (const { method, path } of routes) {
      const res = await gw.fetch(request(method, path, "client-id-1"));
      await res.body?.cancel();
      expect({ method, path, id: res.headers.get("x-request-id") }).toEqual({
        method,
        path,
        id: "client-id-1",
      });
    }
  });

  test("a forwarded answer carries the gateway's id, not the pod's, JSON and SSE alike", async () => {
    for (const sse of [false, true]) {
      const upstream = fakeUpstream(
        () =>
          new Response(sse ? 'data: {"choices":[]}\n\ndata: [DONE]\n\n' : '{"choices":[]}', {
            headers: {
              "content-type": sse ? "text/event-stream" : "application/json",
              "x-request-id": "pod-id",
            },
          }),
      );
      const gw = createGateway({
        config: testConfig({ endpoints: ENDPOINTS }),
        fetch: upstream.fetch,
        logger: silentLogger(),
      });
      const body = { model: "m", messages: [{ role: "user", content: "hi" }], stream: sse };
      const res = await gw.fetch(
        new Request("http://gw/v1/chat/completions", {
          method: "POST",
          headers: { "content-type": "application/json", "x-request-id": "client-id-2" },
          body: JSON.stringify(body),
        }),
      );
      await res.text();
      expect({ sse, status: res.status, id: res.headers.get("x-request-id") }).toEqual({
        sse,
        status: 200,
        id: "client-id-2",
      });
      expect(upstream.calls[0]!.headers.get("x-request-id")).toBe("client-id-2");
    }
  });

  test("every route makes one when the client sent none or an unsafe one", async () => {
    const gw = gateway();
    for (const { method, path } of servedRoutes(gw)) {
      for (const sent of [undefined, "bad id with spaces"]) {
        const res = await gw.fetch(request(method, path, sent));
        await res.body?.cancel();
        const id = res.headers.get("x-request-id");
        expect({ method, path, made: id !== null && id !== sent && /^[\w-]{36}$/.test(id) }).toEqual({
          method,
          path,
          made: true,
        });
      }
    }
  });

  test("an unknown path and an inference route's errors carry it too", async () => {
    const gw = gateway();
    const unknown = await gw.fetch(request("GET", "/nope", "id-404"));
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("x-request-id")).toBe("id-404");
    const bad = await gw.fetch(
      new Request("http://gw/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": "id-400" },
        body: "{not json",
      }),
    );
    expect(bad.status).toBe(400);
    expect(bad.headers.get("x-request-id")).toBe("id-400");
  });

  test("the inference routes are one handler each, with no middleware on every path", () => {
    // Hono runs a route with a single handler without composing a middleware chain.
    const gw = gateway();
    const everywhere = gw.app.routes.filter((r) => r.path === "*" || r.path === "/*");
    expect(everywhere).toEqual([]);
    for (const spec of ROUTES) {
      const handlers = gw.app.routes.filter((r) => r.path === spec.path);
      expect({ path: spec.path, handlers: handlers.length }).toEqual({ path: spec.path, handlers: 1 });
    }
  });

  test("an inference POST reaches its handler without Hono's router; everything else still goes through it", async () => {
    const gw = gateway();
    // Hono's router builds its matcher on the first match and then replaces its own match method.
    await (await gw.fetch(request("GET", "/healthz"))).body?.cancel();
    let matched = 0;
    const match = gw.app.router.match.bind(gw.app.router);
    gw.app.router.match = (method, path) => {
      matched++;
      return match(method, path);
    };
    for (const spec of ROUTES) {
      const res = await gw.fetch(request("POST", spec.path, "direct-1"));
      await res.body?.cancel();
      expect(res.headers.get("x-request-id")).toBe("direct-1");
    }
    expect(matched).toBe(0);
    // A trailing slash, another method or another path is Hono's, as before.
    for (const [method, path] of [
      ["POST", "/v1/chat/completions/"],
      ["GET", "/v1/chat/completions"],
      ["GET", "/healthz"],
    ] as const) {
      const res = await gw.fetch(request(method, path));
      await res.body?.cancel();
    }
    expect(matched).toBe(3);
  });
});
