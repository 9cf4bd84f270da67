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
const CHAT = { model: "m", messages: [{ role: "user", content: "hello" }] };

function gateway(
  respond?: (call: UpstreamCall) => Response | Promise<Response>,
  down: string[] = [],
  settings = {},
) {
  const upstream = fakeUpstream(respond, down);
  const gw = createGateway({
    // The serving pod's address on each answer (off by default): these tests read it.
    config: testConfig({ endpoints: ENDPOINTS, endpointServedHeader: true, ...settings }),
    fetch: upstream.fetch,
    logger: silentLogger(),
    random: seededRandom(1),
  });
  return { gw, upstream };
}

const post = (body: unknown, headers: Record<string, string> = {}) =>
  new Request("http://gw/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });

describe("forwarding", () => {
  test("the original bytes and safe headers reach the pod; the answer comes back with ids", async () => {
    const { gw, upstream } = gateway();
    const res = await gw.fetch(
      post(CHAT, { authorization: "Bearer secret", "x-request-id": "req-1", "x-trace": "t" }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBe("req-1");
    expect(res.headers.get("x-gateway-target-model")).toBe("m");
    expect(upstream.calls.length).toBe(1);
    const call = upstream.calls[0]!;
    expect(call.body).toEqual(CHAT);
    expect(call.headers.get("authorization")).toBeNull();
    expect(call.headers.get("x-trace")).toBe("t");
    expect(call.headers.get("x-request-id")).toBe("req-1");
    expect(res.headers.get("x-gateway-destination-endpoint-served")).toBe(new URL(call.url).host);
  });

  test("a request id is generated when the client sends none (or an unsafe one)", async () => {
    const { gw } = gateway();
    const a = await gw.fetch(post(CHAT));
    const b = await gw.fetch(post(CHAT, { "x-request-id": "bad id\twith spaces" }));
    expect(a.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("upstream error statuses pass through with their bodies", async () => {
    const { gw } = gateway(() => Response.json({ error: { message: "context too long" } }, { status: 400 }));
    const res = await gw.fetch(post(CHAT));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { message: "context too long" } });
    expect(gw.deps.inflight.total()).toBe(0);
  });

  test("a refused connection falls back to the next endpoint", async () => {
    const { gw, upstream } = gateway(undefined, ["10.0.0.1"]);
    for (let i = 0; i < 10; i++) {
      const res = await gw.fetch(post(CHAT));
      expect(res.status).toBe(200);
      expect(res.headers.get("x-gateway-destination-endpoint-served")).toBe("10.0.0.2:8000");
      await res.text();
    }
    expect(upstream.calls.some((c) => c.url.includes("10.0.0.1"))).toBe(true);
    expect(gw.deps.inflight.total()).toBe(0);
  });

  test("a client's x-gateway-destination-endpoint cannot steer the gateway", async () => {
    const { gw, upstream } = gateway();
    await (await gw.fetch(post(CHAT, { "x-gateway-destination-endpoint": "169.254.169.254:80" }))).text();
    expect(upstream.calls[0]!.url).not.toContain("169.254");
    expect(upstream.calls[0]!.headers.get("x-gateway-destination-endpoint")).toBeNull();
  });

  test("in-flight counts follow the body: held while streaming, released at its end", async () => {
    let push!: (s: string) => void;
    let close!: () => void;
    const { gw } = gateway(
      () =>
        new Response(
          new ReadableStream<Uint8Array>({
            start(c) {
              push = (s) => c.enqueue(new TextEncoder().encode(s));
              close = () => c.close();
              push("data: 1\n\n"); // a stream is answered once its first byte came
            },
          }),
          { headers: { "content-type": "text/event-stream" } },
        ),
    );
    const res = await gw.fetch(post({ ...CHAT, stream: true }));
    expect(gw.deps.inflight.total()).toBe(1);
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("data: 1\n\n");
    push("data: 2\n\n");
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("data: 2\n\n");
    expect(gw.deps.inflight.total()).toBe(1);
    close();
    expect((await reader.read()).done).toBe(true);
    expect(gw.deps.inflight.total()).toBe(0);
  });

  test("a client that goes away mid-stream aborts the upstream request and frees its slot", async () => {
    let upstreamSignal: AbortSignal | undefined;
    const { gw } = gateway((call) => {
      upstreamSignal = call.signal;
      const first = new TextEncoder().encode("data: 1\n\n");
      return new Response(new ReadableStream({ start: (c) => c.enqueue(first), pull() {} }), {
        headers: { "content-type": "text/event-stream" },
      });
    });
    const res = await gw.fetch(post({ ...CHAT, stream: true }));
    expect(gw.deps.inflight.total()).toBe(1);
    await res.body!.cancel();
    expect(upstreamSignal?.aborted).toBe(true);
    expect(gw.deps.inflight.total()).toBe(0);
  });

  test("request counts and durations by model reach /metrics", async () => {
    const { gw } = gateway();
    await (await gw.fetch(post(CHAT))).text();
    await (await gw.fetch(post({ model: "zzz", messages: [{ role: "user", content: "x" }] }))).text();
    const text = await (await gw.fetch(new Request("http://gw/metrics"))).text();
    expect(text).toContain(
      'inference_objective_request_total{model_name="m",target_model_name="m",priority="0"} 1',
    );
    expect(text).toContain(
      'inference_objective_request_duration_seconds_count{model_name="m",target_model_name="m"} 1',
    );
    // A refused name (nothing serves it) never becomes a label: it counts as `unknown`.
    expect(text).toContain(
      'inference_objective_request_error_total{model_name="unknown",target_model_name="unknown",error_code="BadRequest"} 1',
    );
    expect(text).not.toContain("zzz");
  });

  test("health and readiness", async () => {
    const { gw } = gateway();
    expect((await gw.fetch(new Request("http://gw/healthz"))).status).toBe(200);
    // Not ready until some endpoint's metrics were scraped recently.
    expect((await gw.fetch(new Request("http://gw/readyz"))).status).toBe(503);
    const now = gw.deps.clock.now();
    gw.deps.endpoints.setMetrics("a", {
      waitingQueueSize: 0,
      runningRequests: 0,
      kvCacheUsage: 0,
      updatedAt: now,
    });
    expect((await gw.fetch(new Request("http://gw/readyz"))).status).toBe(200);
    gw.deps.lifecycle.shuttingDown = true;
    expect((await gw.fetch(new Request("http://gw/readyz"))).status).toBe(503);
    const empty = createGateway({ config: testConfig({}), logger: silentLogger() });
    expect((await empty.fetch(new Request("http://gw/readyz"))).status).toBe(503);
  });
});

describe("session affinity", () => {
  const PICKER = `
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
  - type: session-affinity-scorer
  - type: queue-scorer
  - type: max-score-picker
schedulingProfiles:
  - name: default
    plugins: [{ pluginRef: session-affinity-scorer, weight: 10 }, { pluginRef: queue-scorer }, { pluginRef: max-score-picker }]`;

  test("answers carry a session token; requests bringing it back go to the same endpoint", async () => {
    const upstream = fakeUpstream();
    const gw = createGateway({
      config: testConfig({ endpoints: ENDPOINTS }, PICKER),
      fetch: upstream.fetch,
      logger: silentLogger(),
      random: seededRandom(4),
    });
    const first = await gw.fetch(post(CHAT));
    const token = first.headers.get("x-session-token")!;
    const served = first.headers.get("x-gateway-destination-endpoint-served");
    expect(token).toBeTruthy();
    for (let i = 0; i < 10; i++) {
      const res = await gw.fetch(post(CHAT, { "x-session-token": token }));
      expect(res.headers.get("x-gateway-destination-endpoint-served")).toBe(served);
    }
  });

  test("without the scorer configured, no token is handed out", async () => {
    const { gw } = gateway();
    expect((await gw.fetch(post(CHAT))).headers.get("x-session-token")).toBeNull();
  });
});
