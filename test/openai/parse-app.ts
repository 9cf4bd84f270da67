import { Hono } from "hono";
import type { GatewayEnv } from "../../src/env.ts";
import { toErrorResponse } from "../../src/errors.ts";
import { ROUTES } from "../../src/openai/routes.ts";
import type { InferenceRequest } from "../../src/request.ts";
import { Exchange } from "../../src/stages/exchange.ts";
import { parse } from "../../src/stages/parse.ts";
import { FakeTime } from "../helpers/fake-time.ts";

/**
 * An app with only the parse stage on every route of the table, answering 200 with what
 * parse made of the request (bytes as their length), or with `answer` when given (pushing
 * the request to `seen`), and errors in the route's shape.
 */
export function parseApp(opts: { maxBodyBytes?: number; seen?: InferenceRequest[]; answer?: unknown } = {}) {
  const time = new FakeTime();
  const app = new Hono<GatewayEnv>();
  for (const route of ROUTES) {
    const parsed = parse({
      route,
      maxBodyBytes: () => opts.maxBodyBytes ?? 1024 * 1024,
      bodyReadTimeoutMs: () => 5000,
      setTimer: time.setTimer,
    });
    app.post(route.path, async (c) => {
      const x = new Exchange(c.req.raw, "test");
      parsed.apply(x, await parsed.read(x));
      const r = x.inferenceRequest;
      opts.seen?.push(r);
      return c.json(opts.answer ?? { ...r, bytes: r.bytes.byteLength });
    });
  }
  app.onError((err, c) => toErrorResponse(err, {}, ROUTES.find((r) => r.path === c.req.path)?.errors));
  return app;
}

/** What the parse stage left, as the test app answers it. */
export type Parsed = Omit<InferenceRequest, "bytes"> & { bytes: number };

export const postJson = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  new Request(`http://gw${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
