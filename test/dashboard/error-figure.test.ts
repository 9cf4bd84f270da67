import { describe, expect, test } from "bun:test";
import type { DashboardEvent } from "../../routes/dashboard.ts";
import { createGateway, type Gateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { testConfig } from "../helpers/config.ts";
import { fakeUpstream } from "../helpers/fake-upstream.ts";
import { readEvents } from "./sse.ts";

// The dashboard's "Errors" figure sums request_error_total: clients that leave (a closed tab,
// a stop button) are not the pool's errors and must not show there (issue 15 item 5).

const ENDPOINTS = [{ name: "a", address: "10.0.0.1:8000", models: ["m"] }];

function post(body: Record<string, unknown>, signal?: AbortSignal): Request {
  return new Request("http://gw/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }], ...body }),
    ...(signal ? { signal } : {}),
  });
}

async function totals(gw: Gateway): Promise<DashboardEvent["totals"]> {
  const res = await gw.fetch(new Request("http://gw/dashboard/events"));
  const [event] = await readEvents(res.body!, 1);
  return (JSON.parse(event!.data) as DashboardEvent).totals;
}

describe("the dashboard's error figure", () => {
  test("leaves out clients that left; counts what the pool got wrong", async () => {
    const encoder = new TextEncoder();
    const upstream = fakeUpstream((call) => {
      if (call.body["stream"]) {
        const sse = new ReadableStream<Uint8Array>({
          start: (c) => c.enqueue(encoder.encode('data: {"choices":[{"delta":{"content":"hi"}}]}\n\n')),
        });
        return new Response(sse, { headers: { "content-type": "text/event-stream" } });
      }
      if (call.body["max_tokens"] === 1) return Response.json({ error: { message: "no" } }, { status: 500 });
      // Held until the client leaves, as fetch does when its signal aborts.
      return new Promise<Response>((_, reject) =>
        call.signal?.addEventListener("abort", () => reject(call.signal?.reason), { once: true }),
      );
    });
    const gw = createGateway({
      config: testConfig({ endpoints: ENDPOINTS, upstream: { maxAttempts: 1 } }),
      fetch: upstream.fetch,
      logger: silentLogger(),
    });

    const reader = (await gw.fetch(post({ stream: true }))).body!.getReader();
    await reader.read();
    await reader.cancel(); // left mid-stream
    const ctl = new AbortController();
    const pending = gw.fetch(post({}, ctl.signal));
    while (upstream.calls.length < 2) await Promise.resolve();
    ctl.abort(); // left before the answer: 499
    expect((await pending).status).toBe(499);
    expect(await totals(gw)).toEqual({ requests: 2, errors: 0 });

    expect((await gw.fetch(post({ max_tokens: 1 }))).status).toBe(500);
    expect(await totals(gw)).toEqual({ requests: 3, errors: 1 });
  });
});
