import { describe, expect, test } from "bun:test";
import { seededRandom } from "../../src/clock.ts";
import { createGateway, type Gateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { testConfig } from "../helpers/config.ts";
import { fakeUpstream } from "../helpers/fake-upstream.ts";

// Issue 15 item 5: `inference_objective_running_requests` counts a request from the moment it
// is sent to a pod (as GIE does), not from the pod's response headers, which a pod sends for a
// non-streamed answer only when generation is done. And a client that leaves is not an error.

const ENDPOINTS = [{ name: "a", address: "10.0.0.1:8000", models: ["m"] }];
const CHAT = { model: "m", messages: [{ role: "user", content: "hello" }] };

/** A pod whose answers wait until the test releases them, in order. */
function heldUpstream() {
  const waiting: ((res: Response) => void)[] = [];
  const upstream = fakeUpstream(
    (call) =>
      new Promise<Response>((resolve, reject) => {
        waiting.push(resolve);
        // Like fetch: an aborted request rejects (the gateway aborts when the client leaves).
        call.signal?.addEventListener("abort", () => reject(call.signal?.reason), { once: true });
      }),
  );
  const gw = createGateway({
    config: testConfig({ endpoints: ENDPOINTS }),
    fetch: upstream.fetch,
    logger: silentLogger(),
    random: seededRandom(1),
  });
  return { gw, upstream, waiting };
}

function post(body: unknown, signal?: AbortSignal): Request {
  return new Request("http://gw/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
}

async function metric(gw: Gateway, name: string): Promise<string[]> {
  const text = await (await gw.fetch(new Request("http://gw/metrics"))).text();
  return text.split("\n").filter((l) => l.startsWith(`${name}{`));
}

async function running(gw: Gateway): Promise<number> {
  const lines = await metric(gw, "inference_objective_running_requests");
  return lines.reduce((n, l) => n + Number(l.split(" ").at(-1)), 0);
}

/** Lets the gateway's stages run up to the pod's fetch. */
async function untilSent(upstream: { calls: unknown[] }, count: number): Promise<void> {
  for (let i = 0; i < 100 && upstream.calls.length < count; i++) await Promise.resolve();
  expect(upstream.calls.length).toBe(count);
}

describe("the running gauge counts from dispatch", () => {
  test("non-streamed requests the pods still hold count as running before any header comes back", async () => {
    const { gw, upstream, waiting } = heldUpstream();
    const answers = [gw.fetch(post(CHAT)), gw.fetch(post(CHAT)), gw.fetch(post(CHAT))];
    await untilSent(upstream, 3);
    expect(await running(gw)).toBe(3);
    waiting.shift()!(Response.json({ object: "chat.completion", choices: [] }));
    await answers[0];
    expect(await running(gw)).toBe(2);
    for (const answer of waiting.splice(0)) answer(Response.json({ object: "chat.completion", choices: [] }));
    await Promise.all(answers);
    expect(await running(gw)).toBe(0);
  });

  test("a request no pod could take does not stay running", async () => {
    const upstream = fakeUpstream(undefined, ["10.0.0.1"]);
    const gw = createGateway({
      config: testConfig({ endpoints: ENDPOINTS }),
      fetch: upstream.fetch,
      logger: silentLogger(),
    });
    expect((await gw.fetch(post(CHAT))).status).toBe(503);
    expect(await running(gw)).toBe(0);
  });
});

describe("a client that leaves is not an error", () => {
  test("leaving before the answer (499): counted as a request, not in request_error_total", async () => {
    const { gw, upstream } = heldUpstream();
    const ctl = new AbortController();
    const answer = gw.fetch(post(CHAT, ctl.signal));
    await untilSent(upstream, 1);
    ctl.abort();
    expect((await answer).status).toBe(499);
    expect(await metric(gw, "inference_objective_request_total")).toEqual([
      'inference_objective_request_total{model_name="m",target_model_name="m",priority="0"} 1',
    ]);
    expect(await metric(gw, "inference_objective_request_error_total")).toEqual([]);
    expect(await running(gw)).toBe(0);
  });

  test("leaving mid-stream: not an error either; a pod's error status still is", async () => {
    const encoder = new TextEncoder();
    const { gw, upstream, waiting } = heldUpstream();
    const res = gw.fetch(post({ ...CHAT, stream: true }));
    await untilSent(upstream, 1);
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(encoder.encode('data: {"choices":[{"delta":{"content":"hi"}}]}\n\n'));
      },
    });
    waiting.shift()!(new Response(body, { headers: { "content-type": "text/event-stream" } }));
    const reader = (await res).body!.getReader();
    await reader.read();
    await reader.cancel();
    expect(await metric(gw, "inference_objective_request_error_total")).toEqual([]);

    const failed = gw.fetch(post(CHAT));
    await untilSent(upstream, 2);
    waiting.shift()!(Response.json({ error: { message: "boom" } }, { status: 400 }));
    expect((await failed).status).toBe(400);
    expect(await metric(gw, "inference_objective_request_error_total")).toEqual([
      'inference_objective_request_error_total{model_name="m",target_model_name="m",error_code="400"} 1',
    ]);
    expect(await running(gw)).toBe(0);
  });
});
