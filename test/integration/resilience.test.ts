import { describe, expect, test } from "bun:test";
import { seededRandom } from "../../src/clock.ts";
import { createGateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { testConfig } from "../helpers/config.ts";
import { fakeUpstream, type UpstreamCall } from "../helpers/fake-upstream.ts";

const ENDPOINTS = [
  { name: "a", address: "10.0.0.1:8000", models: ["m"] },
  { name: "b", address: "10.0.0.2:8000", models: ["m"] },
];

function gateway(
  respond: (call: UpstreamCall) => Response | Promise<Response>,
  settings: Record<string, unknown> = {},
) {
  const upstream = fakeUpstream(respond);
  const gw = createGateway({
    config: testConfig({ endpoints: ENDPOINTS, ...settings }),
    fetch: upstream.fetch,
    logger: silentLogger(),
    random: seededRandom(5),
  });
  return { gw, upstream };
}

const chat = (extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  new Request("http://gw/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }], ...extra }),
  });

const ok = (call: UpstreamCall) =>
  Response.json({
    model: call.body["model"],
    choices: [],
    usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
  });

describe("retries before the first byte", () => {
  test("a 503 from one pod is retried on the next; the client never sees it", async () => {
    const { gw, upstream } = gateway((call) =>
      call.url.includes("10.0.0.1") ? new Response("busy", { status: 503 }) : ok(call),
    );
    for (let i = 0; i < 6; i++) {
      const res = await gw.fetch(chat());
      expect(res.status).toBe(200);
      expect(res.headers.get("x-gateway-destination-endpoint-served")).toBe("10.0.0.2:8000");
      await res.text();
    }
    expect(upstream.calls.length).toBeGreaterThan(6);
    expect(gw.deps.inflight.total()).toBe(0);
  });

  test("when every pod says 503, the last 503 passes through as the pod sent it", async () => {
    const { gw } = gateway(() => Response.json({ error: { message: "overloaded" } }, { status: 503 }));
    const res = await gw.fetch(chat());
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: { message: "overloaded" } });
    expect(gw.deps.inflight.total()).toBe(0);
  });

  test("a pod that does not answer within responseTimeoutMs is abandoned for the next", async () => {
    const { gw } = gateway(
      (call) =>
        call.url.includes("10.0.0.1")
          ? new Promise<Response>((_, reject) =>
              call.signal?.addEventListener("abort", () => reject(call.signal?.reason)),
            )
          : ok(call),
      { upstream: { responseTimeoutMs: 30, maxAttempts: 2 } },
    );
    for (let i = 0; i < 4; i++) {
      const res = await gw.fetch(chat());
      expect(res.status).toBe(200);
      await res.text();
    }
    expect(gw.deps.inflight.total()).toBe(0);
  });

  test("maxAttempts bounds the tries", async () => {
    const { gw, upstream } = gateway(() => new Response("busy", { status: 503 }), {
      upstream: { maxAttempts: 1 },
    });
    expect((await gw.fetch(chat())).status).toBe(503);
    expect(upstream.calls.length).toBe(1);
  });

  test("a pod answering 500s is ejected and traffic moves to the others", async () => {
    const { gw } = gateway(
      (call) => (call.url.includes("10.0.0.1") ? new Response("boom", { status: 500 }) : ok(call)),
      {
        upstream: { ejectAfterFailures: 2, ejectionMs: 60_000 },
      },
    );
    const served: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await gw.fetch(chat());
      served.push(res.headers.get("x-gateway-destination-endpoint-served")!);
      await res.text();
    }
    expect(gw.deps.health.isEjected("a")).toBe(true);
    expect(served.filter((s) => s === "10.0.0.1:8000").length).toBeLessThanOrEqual(2);
    expect(served.slice(-10).every((s) => s === "10.0.0.2:8000")).toBe(true);
    await gw.stop();
  });
});

describe("streaming accounting", () => {
  const sse = (call: UpstreamCall) => {
    const so = call.body["stream_options"] as { include_usage?: boolean } | undefined;
    const chunks = ["a", " b", " c"].map(
      (t) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: t } }] })}\n\n`,
    );
    if (so?.include_usage)
      chunks.push(
        `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 } })}\n\n`,
      );
    chunks.push("data: [DONE]\n\n");
    return new Response(chunks.join(""), { headers: { "content-type": "text/event-stream" } });
  };

  test("usage is asked for when the client did not, dropped from what it sees, and counted", async () => {
    const { gw, upstream } = gateway(sse);
    const text = await (await gw.fetch(chat({ stream: true }))).text();
    expect(upstream.calls[0]!.body["stream_options"]).toEqual({ include_usage: true });
    expect(text).not.toContain("usage");
    expect(text).toEndWith("data: [DONE]\n\n");
    const metrics = await (await gw.fetch(new Request("http://gw/metrics"))).text();
    expect(metrics).toContain(
      'inference_objective_output_tokens_sum{model_name="m",target_model_name="m"} 3',
    );
    expect(metrics).toContain('inference_objective_input_tokens_sum{model_name="m",target_model_name="m"} 4');
    expect(metrics).toContain(
      'inference_objective_request_ttft_seconds_count{model_name="m",target_model_name="m"} 1',
    );
    expect(metrics).toContain(
      'inference_objective_request_tpot_seconds_count{model_name="m",target_model_name="m"} 1',
    );
  });

  test("a client that asked for usage gets it, and its bytes are forwarded untouched", async () => {
    const { gw, upstream } = gateway(sse);
    const body = { stream: true, stream_options: { include_usage: true } };
    const text = await (await gw.fetch(chat(body))).text();
    expect(text).toContain('"usage"');
    expect(upstream.calls[0]!.body).toEqual({
      model: "m",
      messages: [{ role: "user", content: "hi" }],
      ...body,
    });
  });

  test("a stream that goes silent past idleTimeoutMs ends with an error event and frees its slot", async () => {
    const { gw } = gateway(
      () =>
        new Response(
          new ReadableStream({
            start(c) {
              c.enqueue(
                new TextEncoder().encode(
                  `data: ${JSON.stringify({ choices: [{ delta: { content: "x" } }] })}\n\n`,
                ),
              );
            },
          }),
          { headers: { "content-type": "text/event-stream" } },
        ),
      { upstream: { idleTimeoutMs: 30 } },
    );
    const text = await (await gw.fetch(chat({ stream: true }))).text();
    expect(text).toContain("upstream_stream_error");
    expect(gw.deps.inflight.total()).toBe(0);
  });
});

describe("shutdown", () => {
  test("new requests are refused with 503 rejected-shutting-down", async () => {
    const { gw } = gateway(ok);
    gw.deps.lifecycle.shuttingDown = true;
    const res = await gw.fetch(chat());
    expect(res.status).toBe(503);
    expect(res.headers.get("x-gateway-request-dropped-reason")).toBe("rejected-shutting-down");
  });
});
