import { describe, expect, test } from "bun:test";
import { createApp } from "../../src/app.ts";
import { directRoutesOf, offerDirectRoutes } from "../../src/direct-routes.ts";
import { silentLogger } from "../../src/log.ts";
import { ROUTES } from "../../src/openai/routes.ts";
import { serveBun } from "../../src/runtime/serve-bun.ts";
import { jsonGateway } from "../helpers/json-gateway.ts";

/**
 * Issue 19, eleventh pass: the inference routes' exact-path POST handlers, offered on the
 * gateway's fetch, become Bun.serve routes (Bun matches the path; no `request.url` read in JS).
 * Everything else still reaches the fetch handler, which picks the same handler by path.
 */
describe("serveBun: the offered exact-path POST handlers as Bun routes", () => {
  test("a POST to an offered path reaches its handler without fetch; anything else reaches fetch", async () => {
    const seen: string[] = [];
    const fetch = offerDirectRoutes(
      (request: Request) => {
        seen.push(`fetch ${request.method} ${new URL(request.url).pathname}`);
        return new Response("fetch");
      },
      new Map([
        [
          "/v1/chat/completions",
          async (request: Request) => {
            seen.push(`route ${request.method} ${new URL(request.url).pathname}`);
            return new Response("route");
          },
        ],
      ]),
    );
    const server = await serveBun({ fetch, port: 0, hostname: "127.0.0.1" });
    try {
      const at = (path: string, method = "POST") =>
        globalThis
          .fetch(`http://127.0.0.1:${server.port}${path}`, {
            method,
            body: method === "POST" ? "{}" : undefined,
          })
          .then((r) => r.text());
      expect(await at("/v1/chat/completions")).toBe("route");
      expect(await at("/v1/chat/completions?x=1")).toBe("route");
      expect(await at("/v1/chat/completions", "GET")).toBe("fetch");
      expect(await at("/v1/chat/completio%6Es")).toBe("fetch");
      expect(await at("/v1/chat/completions/")).toBe("fetch");
      expect(await at("/v1/models", "GET")).toBe("fetch");
      expect(seen).toEqual([
        "route POST /v1/chat/completions",
        "route POST /v1/chat/completions",
        "fetch GET /v1/chat/completions",
        "fetch POST /v1/chat/completio%6Es",
        "fetch POST /v1/chat/completions/",
        "fetch GET /v1/models",
      ]);
    } finally {
      await server.close();
    }
  });

  test("a fetch that offers nothing: every request goes to it", async () => {
    const server = await serveBun({ fetch: () => new Response("fetch"), port: 0, hostname: "127.0.0.1" });
    try {
      const res = await globalThis.fetch(`http://127.0.0.1:${server.port}/v1/chat/completions`, {
        method: "POST",
        body: "{}",
      });
      expect(await res.text()).toBe("fetch");
    } finally {
      await server.close();
    }
  });

  test("the app and the gateway offer every inference route, the handlers the app's fetch picks", () => {
    const gateway = jsonGateway(2, silentLogger());
    const offered = directRoutesOf(gateway.fetch);
    expect([...(offered?.keys() ?? [])].sort()).toEqual(ROUTES.map((r) => r.path).sort());
    expect(directRoutesOf(gateway.app.fetch)).toBe(offered);
    expect(directRoutesOf(createApp(gateway.deps).fetch)?.size).toBe(ROUTES.length);
  });
});
