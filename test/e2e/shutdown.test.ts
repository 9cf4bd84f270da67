/**
 * Shutdown after the grace period, on real ports: every client still waiting gets an
 * answer it can read (503 body, or an SSE error event for a stream already started)
 * before the server closes; none sees a connection reset.
 */
import { afterEach, expect, test } from "bun:test";
import OpenAI from "openai";
import { silentLogger } from "../../src/log.ts";
import { drainAndStop } from "../../src/runtime/shutdown.ts";
import { concurrencyPicker, POOL } from "../helpers/config.ts";
import { type Stack, startStack, waitFor } from "../helpers/stack.ts";

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const MODEL = "m";
/** The pool is full at 2 requests in flight: later ones queue in flow control. */
const PICKER = concurrencyPicker(2, { flowControl: ["defaultRequestTTL: 60s"] });
/** A pod slow enough that nothing finishes during the test (1,000 tokens at 20 ms). */
const POD = { model: MODEL, timeScale: 1, prefillOverheadMs: 5, interTokenMs: 20, maxNumSeqs: 8 };

function post(s: Stack, content: string) {
  return fetch(`${s.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content }], max_tokens: 1000 }),
  });
}

test("after the grace: queued requests get 503 bodies, a running stream an SSE error event, a running JSON request a 503, all before the server closes", async () => {
  stack = await startStack({ pods: [POD], yaml: [POOL, PICKER] });
  const s = stack;
  const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: "unused", maxRetries: 0 });

  // One stream that has started (the client holds its headers and a first chunk)...
  const stream = await client.chat.completions.create({
    model: MODEL,
    messages: [{ role: "user", content: "stream" }],
    max_tokens: 1000,
    stream: true,
  });
  const iterator = stream[Symbol.asyncIterator]();
  await iterator.next();
  // ...one non-streamed request running on the pod (its answer comes at the end)...
  const running = post(s, "json");
  await waitFor(() => s.gateway.deps.inflight.total() === 2);
  // ...and three queued in flow control.
  const queued = [post(s, "q1"), post(s, "q2"), post(s, "q3")];
  await waitFor(() => s.gateway.deps.flow!.stats().queued === 3);

  const streamEnd = (async () => {
    try {
      for (let r = await iterator.next(); !r.done; r = await iterator.next()) {
        // drain until the error
      }
      return undefined;
    } catch (err) {
      return err;
    }
  })();

  await drainAndStop({ gateway: s.gateway, server: s.server, graceMs: 0, logger: silentLogger() });

  for (const res of await Promise.all(queued)) {
    expect(res.status).toBe(503);
    expect(res.headers.get("x-gateway-request-dropped-reason")).toBe("rejected-shutting-down");
    expect((await res.json()).error.message).toContain("shutting down");
  }
  const json = await running;
  expect(json.status).toBe(503);
  expect(json.headers.get("x-gateway-request-dropped-reason")).toBe("rejected-shutting-down");
  expect((await json.json()).error.code).toBe("shutting_down");
  const err = await streamEnd;
  expect(err).toBeInstanceOf(OpenAI.APIError);
  expect((err as InstanceType<typeof OpenAI.APIError>).message).toContain("shutting down");
  await waitFor(() => s.pods[0]!.simulator.stats().running === 0);
}, 30_000);

test("within the grace, running requests finish normally and new ones are refused with 503", async () => {
  stack = await startStack({ pods: [{ ...POD, interTokenMs: 2 }] });
  const s = stack;
  const running = post(s, "finishes");
  await waitFor(() => s.gateway.deps.inflight.total() === 1);
  const stopping = drainAndStop({
    gateway: s.gateway,
    server: s.server,
    graceMs: 30_000,
    logger: silentLogger(),
  });
  const refused = await post(s, "too late");
  expect(refused.status).toBe(503);
  expect(refused.headers.get("x-gateway-request-dropped-reason")).toBe("rejected-shutting-down");
  const res = await running;
  expect(res.status).toBe(200);
  expect((await res.json()).choices[0].message.content.length).toBeGreaterThan(0);
  await stopping;
}, 30_000);
