import { describe, expect, test } from "bun:test";
import { sha256Hex } from "../../src/auth/keys.ts";
import { seededRandom } from "../../src/clock.ts";
import { createGateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { POOL, testConfig } from "../helpers/config.ts";
import { fakeUpstream } from "../helpers/fake-upstream.ts";

const ENDPOINTS = [
  { name: "a", address: "10.0.0.1:8000", models: ["m", "other"] },
  { name: "b", address: "10.0.0.2:8000", models: ["m", "other"] },
];

async function gateway(extra: Record<string, unknown> = {}) {
  const upstream = fakeUpstream();
  const config = testConfig({
    endpoints: ENDPOINTS,
    auth: {
      apiKeys: [
        { name: "team-a", sha256: await sha256Hex("sk-team-a"), tenant: "team-a", models: ["m"] },
        { name: "ops", sha256: await sha256Hex("sk-ops"), trustedRouting: true },
      ],
      metricsKeys: [await sha256Hex("sk-metrics")],
    },
    ...extra,
  });
  // Seeded: the picker breaks ties between the two idle endpoints at random, and "some
  // request went to the other endpoint" must not depend on luck (1 run in 256 sent all 8 to one).
  const gw = createGateway({
    config,
    fetch: upstream.fetch,
    logger: silentLogger(),
    random: seededRandom(7),
  });
  return { gw, upstream };
}

const chat = (headers: Record<string, string>, model = "m") =>
  new Request("http://gw/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
  });

async function errorCode(res: Response) {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

describe("API keys", () => {
  test("missing or wrong key → 401 with an OpenAI error; nothing reaches a pod", async () => {
    const { gw, upstream } = await gateway();
    const missing = await gw.fetch(chat({}));
    expect(missing.status).toBe(401);
    expect(await errorCode(missing)).toBe("missing_api_key");
    const wrong = await gw.fetch(chat({ authorization: "Bearer sk-nope" }));
    expect(wrong.status).toBe(401);
    expect(await errorCode(wrong)).toBe("invalid_api_key");
    expect(upstream.calls.length).toBe(0);
  });

  test("a good key passes; its tenant is the fairness id; the key is not forwarded", async () => {
    const { gw, upstream } = await gateway();
    const res = await gw.fetch(
      chat({ authorization: "Bearer sk-team-a", "x-gateway-inference-fairness-id": "someone-else" }),
    );
    expect(res.status).toBe(200);
    expect(upstream.calls[0]!.headers.get("authorization")).toBeNull();
    const viaHeader = await gw.fetch(chat({ "x-api-key": "sk-team-a" }));
    expect(viaHeader.status).toBe(200);
  });

  test("a model the key may not use → 403", async () => {
    const { gw } = await gateway();
    const res = await gw.fetch(chat({ authorization: "Bearer sk-team-a" }, "other"));
    expect(res.status).toBe(403);
    expect(await errorCode(res)).toBe("model_not_allowed");
  });

  test("authorization applies to the model served: the rewrite header cannot reach a forbidden model", async () => {
    const { gw, upstream } = await gateway();
    for (const header of ["x-gateway-model-name-rewrite", "x-llm-d-model-name-rewrite"]) {
      const res = await gw.fetch(chat({ authorization: "Bearer sk-team-a", [header]: "other" }));
      expect(res.status).toBe(403);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("model_not_allowed");
      expect(body.error.message).toContain("'other'");
      expect(body.error.message).toContain("model served");
    }
    expect(upstream.calls.length).toBe(0);
    // A key allowed every model may still use the header.
    const ops = await gw.fetch(
      chat({ authorization: "Bearer sk-ops", "x-gateway-model-name-rewrite": "other" }),
    );
    expect(ops.status).toBe(200);
    expect(upstream.calls[0]!.body["model"]).toBe("other");
  });

  test("a target the operator's rewrite rule chose for an allowed name is served", async () => {
    const rule = `
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: { name: m-to-other }
spec:
  poolRef: { name: pool }
  rules: [{ matches: [{ model: { value: m } }], targets: [{ modelRewrite: other }] }]
`;
    const upstream = fakeUpstream();
    const config = testConfig(
      {
        pool: "pool",
        endpoints: ENDPOINTS,
        auth: { apiKeys: [{ name: "team-a", sha256: await sha256Hex("sk-team-a"), models: ["m"] }] },
      },
      POOL,
      rule,
    );
    const gw = createGateway({ config, fetch: upstream.fetch, logger: silentLogger() });
    const res = await gw.fetch(chat({ authorization: "Bearer sk-team-a" }));
    expect(res.status).toBe(200);
    expect(upstream.calls[0]!.body["model"]).toBe("other");
  });

  test("no credential header the gateway read reaches a pod: Authorization nor x-api-key", async () => {
    const { gw, upstream } = await gateway();
    expect((await gw.fetch(chat({ "x-api-key": "sk-team-a" }))).status).toBe(200);
    const sent = upstream.calls[0]!.headers;
    expect(sent.get("x-api-key")).toBeNull();
    expect(sent.get("authorization")).toBeNull();
  });

  test("/metrics has its own keys; inference keys do not open it", async () => {
    const { gw } = await gateway();
    expect((await gw.fetch(new Request("http://gw/metrics"))).status).toBe(401);
    expect(
      (await gw.fetch(new Request("http://gw/metrics", { headers: { authorization: "Bearer sk-team-a" } })))
        .status,
    ).toBe(401);
    expect(
      (await gw.fetch(new Request("http://gw/metrics", { headers: { authorization: "Bearer sk-metrics" } })))
        .status,
    ).toBe(200);
    expect((await gw.fetch(new Request("http://gw/healthz"))).status).toBe(200);
  });

  test("without keys configured, the gateway is open", async () => {
    const upstream = fakeUpstream();
    const gw = createGateway({
      config: testConfig({ endpoints: ENDPOINTS }),
      fetch: upstream.fetch,
      logger: silentLogger(),
    });
    expect((await gw.fetch(chat({}))).status).toBe(200);
  });
});

describe("destination pinning and upstream credentials", () => {
  test("a trusted key may pin an endpoint of the pool, and only of the pool", async () => {
    const { gw, upstream } = await gateway();
    const pinned = await gw.fetch(
      chat({ authorization: "Bearer sk-ops", "x-gateway-destination-endpoint": "10.0.0.2:8000" }),
    );
    expect(pinned.status).toBe(200);
    expect(upstream.calls.at(-1)!.url).toContain("10.0.0.2:8000");
    const outside = await gw.fetch(
      chat({ authorization: "Bearer sk-ops", "x-gateway-destination-endpoint": "169.254.169.254:80" }),
    );
    expect(outside.status).toBe(400);
    expect(upstream.calls.some((c) => c.url.includes("169.254"))).toBe(false);
  });

  test("an untrusted key's pin is ignored", async () => {
    const { gw, upstream } = await gateway();
    for (let i = 0; i < 8; i++) {
      await (
        await gw.fetch(
          chat({ authorization: "Bearer sk-team-a", "x-gateway-destination-endpoint": "10.0.0.2:8000" }),
        )
      ).text();
    }
    expect(upstream.calls.some((c) => c.url.includes("10.0.0.1"))).toBe(true);
  });

  test("a pool credential is injected; the client's Authorization is forwarded only when configured", async () => {
    const { gw, upstream } = await gateway({ upstream: { credential: { value: "Bearer pod-secret" } } });
    await gw.fetch(chat({ authorization: "Bearer sk-team-a" }));
    expect(upstream.calls[0]!.headers.get("authorization")).toBe("Bearer pod-secret");
  });
});
