import { describe, expect, test } from "bun:test";
import { seededRandom } from "../../src/clock.ts";
import { createGateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { POOL, testConfig } from "../helpers/config.ts";
import { fakeUpstream } from "../helpers/fake-upstream.ts";

const ENDPOINTS = [
  { name: "stable", address: "10.0.0.1:8000", models: ["facebook/opt-125m", "sql-lora"] },
  { name: "canary", address: "10.0.0.2:8000", models: ["facebook/opt-125m-canary"] },
];

const CANARY = `
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: { name: opt-canary, creationTimestamp: "2025-03-01T10:00:00Z" }
spec:
  poolRef: { group: inference.networking.k8s.io, kind: InferencePool, name: pool }
  rules:
    - matches: [{ model: { type: Exact, value: opt-stable } }]
      targets:
        - { modelRewrite: facebook/opt-125m, weight: 90 }
        - { modelRewrite: facebook/opt-125m-canary, weight: 10 }
`;

function gateway(settings: Record<string, unknown> = {}, ...docs: string[]) {
  const upstream = fakeUpstream((call) => {
    if (call.body["stream"]) {
      const model = call.body["model"];
      const sse = `data: {"id":"1","object":"chat.completion.chunk","model":"${model}","choices":[]}\n\ndata: [DONE]\n\n`;
      return new Response(sse, { headers: { "content-type": "text/event-stream" } });
    }
    return Response.json({ id: "1", object: "chat.completion", model: call.body["model"], choices: [] });
  });
  const gw = createGateway({
    config: testConfig({ endpoints: ENDPOINTS, ...settings }, POOL, CANARY, ...docs),
    fetch: upstream.fetch,
    logger: silentLogger(),
    random: seededRandom(7),
  });
  return { gw, upstream };
}

const chat = (model: string, headers: Record<string, string> = {}, extra: Record<string, unknown> = {}) =>
  new Request("http://gw/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }], ...extra }),
  });

describe("model rewrite through the gateway", () => {
  test("an alias is split 90/10 between its targets and only reaches endpoints serving each target", async () => {
    const { gw, upstream } = gateway();
    for (let i = 0; i < 1000; i++) await (await gw.fetch(chat("opt-stable"))).text();
    const toCanary = upstream.calls.filter((c) => c.body["model"] === "facebook/opt-125m-canary");
    expect(toCanary.every((c) => c.url.includes("10.0.0.2"))).toBe(true);
    expect(
      upstream.calls
        .filter((c) => c.body["model"] === "facebook/opt-125m")
        .every((c) => c.url.includes("10.0.0.1")),
    ).toBe(true);
    expect(toCanary.length / 1000).toBeGreaterThan(0.07);
    expect(toCanary.length / 1000).toBeLessThan(0.13);
    const metrics = await (await gw.fetch(new Request("http://gw/metrics"))).text();
    expect(metrics).toMatch(
      /inference_extension_model_rewrite_decisions_total\{model_rewrite_name="opt-canary",model_name="opt-stable",target_model="facebook\/opt-125m-canary"\} \d+/,
    );
  });

  test("responses name the served model by default, and carry it in a header either way", async () => {
    const { gw } = gateway();
    const res = await gw.fetch(chat("opt-stable"));
    const body = (await res.json()) as { model: string };
    expect(body.model).toStartWith("facebook/opt-125m");
    expect(res.headers.get("x-gateway-target-model")).toBe(body.model);
  });

  test("responseModel: requested shows the alias in JSON and in every SSE event", async () => {
    const { gw } = gateway({ responseModel: "requested" });
    const res = await gw.fetch(chat("opt-stable"));
    expect(((await res.json()) as { model: string }).model).toBe("opt-stable");
    expect(res.headers.get("x-gateway-target-model")).toStartWith("facebook/opt-125m");
    const stream = await gw.fetch(chat("opt-stable", {}, { stream: true }));
    const text = await stream.text();
    expect(text).toContain('"model":"opt-stable"');
    expect(text).toEndWith("data: [DONE]\n\n");
  });

  test("the rewrite header sets the initial target; a matching rule still wins", async () => {
    const { gw, upstream } = gateway();
    await (await gw.fetch(chat("anything", { "x-gateway-model-name-rewrite": "sql-lora" }))).text();
    expect(upstream.calls.at(-1)!.body["model"]).toBe("sql-lora");
    await (await gw.fetch(chat("anything", { "x-llm-d-model-name-rewrite": "sql-lora" }))).text();
    expect(upstream.calls.at(-1)!.body["model"]).toBe("sql-lora");
    await (await gw.fetch(chat("opt-stable", { "x-gateway-model-name-rewrite": "sql-lora" }))).text();
    expect(upstream.calls.at(-1)!.body["model"]).toStartWith("facebook/opt-125m");
  });

  test("an unmatched model that an endpoint serves is forwarded byte for byte", async () => {
    const { gw, upstream } = gateway();
    await (await gw.fetch(chat("sql-lora"))).text();
    expect(upstream.calls.at(-1)!.body["model"]).toBe("sql-lora");
  });

  test("a model nothing serves and no rule matches → 404 model_not_found", async () => {
    const { gw } = gateway();
    const res = await gw.fetch(chat("gpt-4"));
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("model_not_found");
  });
});

describe("/v1/models", () => {
  const CATALOG = {
    catalog: {
      defaultOwner: "platform-team",
      models: [
        { id: "facebook/opt-125m", ownedBy: "meta", createdAt: "2024-05-01T00:00:00Z" },
        { id: "facebook/opt-125m-canary", hidden: true },
      ],
    },
  };

  test("lists served models and aliases with owned_by and created from config and resources", async () => {
    const { gw } = gateway(CATALOG);
    const body = (await (await gw.fetch(new Request("http://gw/v1/models"))).json()) as {
      object: string;
      data: { id: string; created: number; owned_by: string; object: string }[];
    };
    expect(body.object).toBe("list");
    expect(body.data).toEqual([
      { id: "facebook/opt-125m", object: "model", created: 1714521600, owned_by: "meta" },
      {
        id: "opt-stable",
        object: "model",
        created: Date.parse("2025-03-01T10:00:00Z") / 1000,
        owned_by: "platform-team",
      },
      { id: "sql-lora", object: "model", created: 1735689600, owned_by: "platform-team" },
    ]);
  });

  test("retrieve by an id with slashes; hidden and unknown → 404", async () => {
    const { gw } = gateway(CATALOG);
    const one = await gw.fetch(new Request("http://gw/v1/models/facebook/opt-125m"));
    expect(one.status).toBe(200);
    expect(((await one.json()) as { id: string }).id).toBe("facebook/opt-125m");
    const hidden = await gw.fetch(new Request("http://gw/v1/models/facebook/opt-125m-canary"));
    expect(hidden.status).toBe(404);
    expect(((await hidden.json()) as { error: { code: string } }).error.code).toBe("model_not_found");
    const missing = await gw.fetch(new Request("http://gw/v1/models/facebook/nope"));
    expect(missing.status).toBe(404);
  });

  test("created is stable across calls", async () => {
    const { gw } = gateway();
    const a = await (await gw.fetch(new Request("http://gw/v1/models"))).text();
    const b = await (await gw.fetch(new Request("http://gw/v1/models"))).text();
    expect(a).toBe(b);
  });
});
