import { describe, expect, test } from "bun:test";
import { seededRandom } from "../../src/clock.ts";
import { createGateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { testConfig } from "../helpers/config.ts";
import { FakeTime } from "../helpers/fake-time.ts";
import { fakeUpstream, type UpstreamCall } from "../helpers/fake-upstream.ts";

const ENDPOINTS = [
  { name: "a", address: "10.0.0.1:8000", models: ["m"] },
  { name: "b", address: "10.0.0.2:8000", models: ["m"] },
];

/** A gateway on fake time over a fake upstream whose /health always passes. */
function gateway(
  respond: (call: UpstreamCall) => Response | Promise<Response>,
  settings: Record<string, unknown> = {},
) {
  const upstream = fakeUpstream(respond);
  const time = new FakeTime();
  const probes: string[] = [];
  const gw = createGateway({
    // The serving pod's address on each answer (off by default): these tests read it.
    config: testConfig({ endpoints: ENDPOINTS, endpointServedHeader: true, ...settings }),
    fetch: (url, init) => {
      if (!url.endsWith("/health")) return upstream.fetch(url, init);
      probes.push(url);
      return Promise.resolve(new Response("ok"));
    },
    logger: silentLogger(),
    random: seededRandom(5),
    clock: time.clock,
    setTimer: time.setTimer,
  });
  return { gw, upstream, time, probes };
}

/** A pod that never answers: its promise ends only when the gateway aborts the request. */
const hang = (call: UpstreamCall) =>
  new Promise<Response>((_, reject) =>
    call.signal?.addEventListener("abort", () => reject(call.signal?.reason)),
  );

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
    const { gw, time } = gateway((call) => (call.url.includes("10.0.0.1") ? hang(call) : ok(call)), {
      upstream: { responseTimeoutMs: 30_000, maxAttempts: 2, ejectAfterFailures: 100 },
    });
    for (let i = 0; i < 4; i++) {
      const pending = gw.fetch(chat());
      await time.advanceAsync(29_999);
      await time.advanceAsync(1);
      const res = await pending;
      expect(res.status).toBe(200);
      await res.text();
    }
    expect(gw.deps.inflight.total()).toBe(0);
  });

  test("a 500 before any byte is retried on the next endpoint: the client sees none", async () => {
    const { gw, upstream } = gateway(
      (call) => (call.url.includes("10.0.0.1") ? new Response("boom", { status: 500 }) : ok(call)),
      { upstream: { ejectAfterFailures: 1000, failureWindow: 0 } },
    );
    for (let i = 0; i < 10; i++) {
      const res = await gw.fetch(chat());
      expect(res.status).toBe(200);
      await res.text();
    }
    expect(upstream.calls.filter((c) => c.url.includes("10.0.0.1")).length).toBeGreaterThan(0);
    expect(gw.deps.inflight.total()).toBe(0);
  });

  test("retryOn: [] passes a pod's 500 through as it came", async () => {
    const { gw } = gateway(() => new Response("boom", { status: 500 }), {
      upstream: { retryOn: [], ejectAfterFailures: 1000 },
    });
    const res = await gw.fetch(chat());
    expect(res.status).toBe(500);
    expect(await res.text()).toBe("boom");
  });

  test("a stream whose pod sends headers but no first byte moves to the next endpoint after firstByteTimeoutMs", async () => {
    const { gw, time } = gateway(
      (call) =>
        new Response(
          new ReadableStream({
            start(c) {
              if (!call.url.includes("10.0.0.1")) {
                c.enqueue(new TextEncoder().encode("data: [DONE]\n\n"));
                c.close();
              }
            },
          }),
          { headers: { "content-type": "text/event-stream" } },
        ),
      { upstream: { firstByteTimeoutMs: 5000, ejectAfterFailures: 100 } },
    );
    const served: string[] = [];
    for (let i = 0; i < 4; i++) {
      const pending = gw.fetch(chat({ stream: true }));
      await time.advanceAsync(5000);
      const res = await pending;
      expect(res.status).toBe(200);
      served.push(res.headers.get("x-gateway-destination-endpoint-served")!);
      expect(await res.text()).toBe("data: [DONE]\n\n");
    }
    expect(served.every((s) => s === "10.0.0.2:8000")).toBe(true);
    expect(gw.deps.inflight.total()).toBe(0);
  });

  test("the first-byte timeout is for streams only: a non-streamed answer keeps responseTimeoutMs", async () => {
    let answer!: (r: Response) => void;
    const { gw, time } = gateway(() => new Promise<Response>((r) => (answer = r)), {
      upstream: { firstByteTimeoutMs: 1000, responseTimeoutMs: 60_000 },
    });
    const pending = gw.fetch(chat());
    await time.advanceAsync(30_000);
    answer(ok({ url: "", headers: new Headers(), body: { model: "m" }, signal: undefined }));
    expect((await pending).status).toBe(200);
  });

  test("maxAttempts bounds the tries", async () => {
    const { gw, upstream } = gateway(() => new Response("busy", { status: 503 }), {
      upstream: { maxAttempts: 1 },
    });
    expect((await gw.fetch(chat())).status).toBe(503);
    expect(upstream.calls.length).toBe(1);
  });

  test("a pod answering 500s with a passing /health stays out longer each time; the client sees no 500", async () => {
    const { gw, time, upstream, probes } = gateway(
      (call) => (call.url.includes("10.0.0.1") ? new Response("boom", { status: 500 }) : ok(call)),
      { upstream: { ejectAfterFailures: 3, ejectionMs: 2000, maxEjectionMs: 60_000 } },
    );
    // 40 s of traffic, one request every 500 ms. Before, /health brought it back every 2 s.
    const statuses: number[] = [];
    for (let i = 0; i < 80; i++) {
      const res = await gw.fetch(chat());
      statuses.push(res.status);
      await res.text();
      await time.advanceAsync(500);
    }
    expect(statuses.every((s) => s === 200)).toBe(true);
    // Ejections of 2, 4, 8 and 16 s: 3 failures, then one per probation.
    const hits = upstream.calls.filter((c) => c.url.includes("10.0.0.1")).length;
    expect(hits).toBeLessThanOrEqual(3 + 4);
    expect(probes.length).toBeGreaterThanOrEqual(3);
    expect(gw.deps.health.isEjected("a")).toBe(true);
    await gw.stop();
  });

  test("a pod answering 500s is ejected and traffic moves to the others", async () => {
    const { gw } = gateway(
      (call) => (call.url.includes("10.0.0.1") ? new Response("boom", { status: 500 }) : ok(call)),
      {
        upstream: { ejectAfterFailures: 2, ejectionMs: 60_000, retryOn: [503] },
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

test("health state of an endpoint that leaves the pool is forgotten, ejected or not", async () => {
  const { gw } = gateway(
    (call) => (call.url.includes("10.0.0.1") ? new Response("boom", { status: 500 }) : ok(call)),
    { upstream: { ejectAfterFailures: 100, failureWindow: 0 } },
  );
  for (let i = 0; i < 4; i++) await (await gw.fetch(chat())).text();
  expect(gw.deps.health.known()).toEqual(["a"]);
  gw.deps.endpoints.remove("a");
  expect(gw.deps.health.known()).toEqual([]);
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
    const { gw, time } = gateway(
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
      { upstream: { idleTimeoutMs: 30_000 } },
    );
    const reading = (await gw.fetch(chat({ stream: true }))).text();
    await time.advanceAsync(29_999);
    expect(gw.deps.inflight.total()).toBe(1);
    await time.advanceAsync(1);
    const text = await reading;
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

describe("inference_pool_ready_pods", () => {
  const readyPods = async (gw: ReturnType<typeof gateway>["gw"]) => {
    const text = await (await gw.fetch(new Request("http://gw/metrics"))).text();
    return Number(/^inference_pool_ready_pods\{[^}]*\} (\S+)$/m.exec(text)?.[1]);
  };
  const fresh = (at: number) => ({ waitingQueueSize: 0, runningRequests: 0, kvCacheUsage: 0, updatedAt: at });

  test("counts endpoints with fresh metrics that are not ejected", async () => {
    const { gw, time } = gateway(
      (call) => (call.url.includes("10.0.0.1") ? new Response("boom", { status: 500 }) : ok(call)),
      { upstream: { ejectAfterFailures: 1, retryOn: [] } },
    );
    for (const name of ["a", "b"]) gw.deps.endpoints.setMetrics(name, fresh(time.clock.now()));
    expect(await readyPods(gw)).toBe(2);
    for (let i = 0; i < 4 && !gw.deps.health.isEjected("a"); i++) await (await gw.fetch(chat())).text();
    expect(gw.deps.health.isEjected("a")).toBe(true);
    expect(await readyPods(gw)).toBe(1);
    // Both pods' metrics go stale (scrapes stopped answering): none is ready.
    await time.advanceAsync(10_000);
    expect(await readyPods(gw)).toBe(0);
    await gw.stop();
  });
});
