import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { parseConfig } from "../../src/config/load.ts";
import { POOL } from "../helpers/config.ts";
import { FakeTime } from "../helpers/fake-time.ts";
import { type Stack, startStack, waitFor } from "../helpers/stack.ts";
import { hostedDocs, makePki, metric, startProvider, type TestPki } from "./provider.ts";

let pki: TestPki;
let a: ReturnType<typeof startProvider>;
let b: ReturnType<typeof startProvider>;
let stack: Stack | undefined;

beforeAll(() => {
  pki = makePki();
  a = startProvider(pki, { key: "sk-provider-a", name: "a" });
  b = startProvider(pki, { key: "sk-provider-b", name: "b" });
});
afterAll(() => {
  a.stop();
  b.stop();
});
afterEach(async () => {
  await stack?.close();
  stack = undefined;
  a.seen.length = 0;
  b.seen.length = 0;
  a.state.failWith = 0;
  b.state.failWith = 0;
  a.release();
});

const backends = () => [
  ...hostedDocs({ name: "prov-a", port: a.port, ca: pki.ca, key: "sk-provider-a" }),
  ...hostedDocs({ name: "prov-b", port: b.port, ca: pki.ca, key: "sk-provider-b" }),
];

const route = (rules: string, annotations = "") => `
apiVersion: aigateway.envoyproxy.io/v1beta1
kind: AIGatewayRoute
metadata:
  name: r
  creationTimestamp: "2025-03-01T00:00:00Z"
${annotations}
spec:
  parentRefs: [{ name: gw, kind: Gateway, group: gateway.networking.k8s.io }]
  rules:
${rules}`;

const CLIENT_KEY = "client-secret-key";
const auth = {
  auth: {
    apiKeys: [{ name: "client", sha256: new Bun.CryptoHasher("sha256").update(CLIENT_KEY).digest("hex") }],
  },
};

async function start(rules: string, settings: Record<string, unknown> = {}, time?: FakeTime) {
  stack = await startStack({
    pods: [{ model: "llama" }],
    settings: { ...auth, ...settings },
    yaml: [POOL, ...backends(), route(rules)],
    ...(time ? { time } : {}),
  });
  return new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
}

const chat = (client: OpenAI, model: string, headers: Record<string, string> = {}) =>
  client.chat.completions.create(
    { model, messages: [{ role: "user", content: "hi" }], max_tokens: 3 },
    { headers },
  );

describe("AIGatewayRoute rules and hosted backends over HTTPS (a CA the test made)", () => {
  test("an x-ai-eg-model Exact rule sends to its backend with the override, the backend's own key, never the client's", async () => {
    const client = await start(
      `
    - matches: [{ headers: [{ type: Exact, name: x-ai-eg-model, value: gpt-4o-mini }] }]
      backendRefs: [{ name: prov-a, modelNameOverride: gpt-4o-mini-2024-07-18 }]`,
      // Pods may get the client's key; a hosted backend never does.
      { upstream: { forwardAuthorization: true } },
    );
    const out = await chat(client, "gpt-4o-mini", { "x-api-key": "client-extra" });
    expect(out.choices[0]!.message.content).toBe("from a");
    expect(out.model).toBe("gpt-4o-mini-2024-07-18");
    expect(a.seen).toHaveLength(1);
    const seen = a.seen[0]!;
    expect(seen.path).toBe("/v1/chat/completions");
    expect(seen.body["model"]).toBe("gpt-4o-mini-2024-07-18");
    expect(seen.authorization).toBe("Bearer sk-provider-a");
    expect(seen.apiKey).toBeNull();
    expect(JSON.stringify(seen.headers)).not.toContain(CLIENT_KEY);
    // A model no rule matches still goes model → pool.
    const pooled = await chat(client, "llama");
    expect(pooled.model).toBe("llama");
    expect(a.seen).toHaveLength(1);
  });

  test("a RegularExpression header rule, AND within a match, OR across matches", async () => {
    const client = await start(`
    - matches:
        - headers:
            - { type: RegularExpression, name: x-ai-eg-model, value: "gpt-.*" }
            - { type: Exact, name: x-tenant, value: blue }
        - headers: [{ type: Exact, name: x-ai-eg-model, value: claude-like }]
      backendRefs: [{ name: prov-b }]
    - matches: [{ headers: [{ type: RegularExpression, name: x-ai-eg-model, value: "gpt-.*" }] }]
      backendRefs: [{ name: prov-a }]`);
    expect((await chat(client, "gpt-4o", { "x-tenant": "blue" })).choices[0]!.message.content).toBe("from b");
    expect((await chat(client, "gpt-4o", { "x-tenant": "red" })).choices[0]!.message.content).toBe("from a");
    expect((await chat(client, "claude-like")).choices[0]!.message.content).toBe("from b");
    // The regex must match the whole value.
    const miss = await fetch(`${stack!.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "my-gpt-4o", messages: [{ role: "user", content: "x" }] }),
    });
    expect(miss.status).toBe(404);
  });

  test("weights split one priority level; priority 1 is the fallback when priority 0 fails before a byte", async () => {
    const client = await start(`
    - matches: [{ headers: [{ type: Exact, name: x-ai-eg-model, value: split }] }]
      backendRefs: [{ name: prov-a, weight: 1 }, { name: prov-b, weight: 3 }]
    - matches: [{ headers: [{ type: Exact, name: x-ai-eg-model, value: fallback }] }]
      backendRefs: [{ name: prov-a, priority: 0 }, { name: prov-b, priority: 1 }]`);
    for (let i = 0; i < 40; i++) await chat(client, "split");
    expect(a.seen.length + b.seen.length).toBe(40);
    expect(b.seen.length).toBeGreaterThan(a.seen.length * 1.8);
    expect(a.seen.length).toBeGreaterThan(3);
    a.seen.length = 0;
    b.seen.length = 0;
    expect((await chat(client, "fallback")).choices[0]!.message.content).toBe("from a");
    a.state.failWith = 503;
    const out = await chat(client, "fallback");
    expect(out.choices[0]!.message.content).toBe("from b");
    expect(a.seen).toHaveLength(2);
    // Passive health as for pods: after 3 failures in a row prov-a is ejected and no longer tried first.
    for (let i = 0; i < 4; i++)
      expect((await chat(client, "fallback")).choices[0]!.message.content).toBe("from b");
    expect(a.seen).toHaveLength(4);
    const metrics = await (await fetch(`${stack!.url}/metrics`)).text();
    expect(metric(metrics, 'gateway_backend_requests_total{backend="prov-a",code="503"}')).toBe(3);
    // Every answer of prov-b reported 7 prompt tokens: the counter is exactly 7 per answer.
    const answeredByB = metric(metrics, 'gateway_backend_requests_total{backend="prov-b",code="200"}')!;
    expect(answeredByB).toBeGreaterThan(10);
    expect(metric(metrics, 'gateway_backend_tokens_total{backend="prov-b",type="input"}')).toBe(
      7 * answeredByB,
    );
  });

  test("streams from a hosted backend carry usage to the metrics and the client sees the chunks", async () => {
    const client = await start(`
    - matches: [{ headers: [{ type: Exact, name: x-ai-eg-model, value: gpt-4o-mini }] }]
      backendRefs: [{ name: prov-a }]`);
    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe("from a");
    expect(a.seen[0]!.body["stream_options"]).toEqual({ include_usage: true });
    const metrics = await (await fetch(`${stack!.url}/metrics`)).text();
    expect(metric(metrics, 'gateway_backend_tokens_total{backend="prov-a",type="output"}')).toBe(3);
  });

  test("/v1/models lists each rule's Exact models with modelsOwnedBy (default Envoy AI Gateway) and modelsCreatedAt", async () => {
    const client = await start(`
    - matches: [{ headers: [{ type: Exact, name: x-ai-eg-model, value: gpt-4o-mini }] }]
      backendRefs: [{ name: prov-a }]
      modelsOwnedBy: OpenAI
      modelsCreatedAt: "2024-05-21T10:00:00Z"
    - matches: [{ headers: [{ type: Exact, name: x-ai-eg-model, value: other-model }] }]
      backendRefs: [{ name: prov-b }]`);
    const list = await client.models.list();
    const byId = new Map(list.data.map((m) => [m.id, m]));
    expect(byId.get("gpt-4o-mini")).toMatchObject({
      owned_by: "OpenAI",
      created: Date.parse("2024-05-21T10:00:00Z") / 1000,
    });
    expect(byId.get("other-model")).toMatchObject({
      owned_by: "Envoy AI Gateway",
      created: Date.parse("2025-03-01T00:00:00Z") / 1000,
    });
    expect(byId.has("llama")).toBe(true);
    expect((await client.models.retrieve("gpt-4o-mini")).owned_by).toBe("OpenAI");
  });
});

test("a rule's timeouts.request cuts a slow backend with a 504; timeouts.backendRequest moves on to the next priority", async () => {
  const time = new FakeTime();
  const client = await start(
    `
    - matches: [{ headers: [{ type: Exact, name: x-ai-eg-model, value: slow }] }]
      backendRefs: [{ name: prov-a }]
      timeouts: { request: 300ms }
    - matches: [{ headers: [{ type: Exact, name: x-ai-eg-model, value: hedged }] }]
      backendRefs: [{ name: prov-a }, { name: prov-b, priority: 1 }]
      timeouts: { backendRequest: 200ms }`,
    {},
    time,
  );
  a.state.holding = true; // prov-a answers nothing until released
  const slow = chat(client, "slow").catch((e) => e);
  await waitFor(() => a.seen.length === 1);
  await time.advanceAsync(299);
  expect(a.seen.length).toBe(1);
  await time.advanceAsync(1);
  const err = await slow;
  expect(err.status).toBe(504);
  expect(err.error.code).toBe("route_timeout");
  const hedged = chat(client, "hedged");
  await waitFor(() => a.seen.length === 2);
  await time.advanceAsync(200);
  expect((await hedged).choices[0]!.message.content).toBe("from b");
});

describe("a client-chosen backend (x-gateway-backend)", () => {
  const TRUSTED = "trusted-client-key";
  const keys = {
    auth: {
      apiKeys: [
        { name: "client", sha256: new Bun.CryptoHasher("sha256").update(CLIENT_KEY).digest("hex") },
        {
          name: "trusted",
          sha256: new Bun.CryptoHasher("sha256").update(TRUSTED).digest("hex"),
          trustedRouting: true,
        },
      ],
    },
  };
  const RULE = `
    - matches: [{ headers: [{ type: Exact, name: x-ai-eg-model, value: split }] }]
      backendRefs: [{ name: prov-a }, { name: prov-b, priority: 1 }]`;
  const post = (key: string, backend: string) =>
    fetch(`${stack!.url}/v1/chat/completions`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${key}`,
        "content-type": "application/json",
        "x-gateway-backend": backend,
      },
      body: JSON.stringify({ model: "split", messages: [{ role: "user", content: "x" }] }),
    });

  test("on: a trusted key picks among the rule's backends only; other keys get a 403; unknown names a 400", async () => {
    await start(RULE, { ...keys, clientBackendSelection: true });
    const chosen = await post(TRUSTED, "prov-b");
    expect(chosen.status).toBe(200);
    expect(chosen.headers.get("x-gateway-backend")).toBe("prov-b");
    expect(b.seen).toHaveLength(1);
    expect(b.seen[0]!.headers["x-gateway-backend"]).toBeUndefined();
    expect((await post(CLIENT_KEY, "prov-b")).status).toBe(403);
    const unknown = await post(TRUSTED, "pool");
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toContain(
      "'prov-a', 'prov-b'",
    );
    expect(b.seen).toHaveLength(1);
  });

  test("off (the default): the header is ignored", async () => {
    await start(RULE, keys);
    const res = await post(TRUSTED, "prov-b");
    expect(res.headers.get("x-gateway-backend")).toBe("prov-a");
    expect(b.seen).toHaveLength(0);
  });
});

test("AzureOpenAI: the deployment URL with api-version and the api-key header; other routes go to an OpenAI backend's path", async () => {
  const azure = startProvider(pki, { key: "azure-key", name: "azure", header: "api-key" });
  try {
    stack = await startStack({
      pods: [{ model: "llama" }],
      settings: auth,
      yaml: [
        POOL,
        ...backends(),
        ...hostedDocs({
          name: "az",
          port: azure.port,
          ca: pki.ca,
          key: "azure-key",
          schema: "AzureOpenAI",
          version: "2024-10-21",
          azure: true,
        }),
        route(`
    - matches: [{ headers: [{ type: Exact, name: x-ai-eg-model, value: gpt-4o }] }]
      backendRefs: [{ name: az }]
    - matches: [{ headers: [{ type: Exact, name: x-ai-eg-model, value: text-embedding-3-small }] }]
      backendRefs: [{ name: prov-a }]`),
      ],
    });
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
    expect((await chat(client, "gpt-4o")).choices[0]!.message.content).toBe("from azure");
    expect(azure.seen[0]!.path).toBe("/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21");
    expect(azure.seen[0]!.headers["api-key"]).toBe("azure-key");
    expect(azure.seen[0]!.authorization).toBeNull();
    const emb = await fetch(`${stack.url}/v1/embeddings`, {
      method: "POST",
      headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "text-embedding-3-small", input: "hello" }),
    });
    expect(emb.status).toBe(200);
    expect(a.seen.at(-1)!.path).toBe("/v1/embeddings");
  } finally {
    azure.stop();
  }
});

test("a key limited to some models cannot reach a hosted backend for another model (403, nothing sent)", async () => {
  const LIMITED = "limited-key";
  await start(
    `
    - matches: [{ headers: [{ type: Exact, name: x-ai-eg-model, value: gpt-4o-mini }] }]
      backendRefs: [{ name: prov-a }]`,
    {
      auth: {
        apiKeys: [
          {
            name: "limited",
            sha256: new Bun.CryptoHasher("sha256").update(LIMITED).digest("hex"),
            models: ["llama"],
          },
        ],
      },
    },
  );
  const client = new OpenAI({ baseURL: `${stack!.url}/v1`, apiKey: LIMITED, maxRetries: 0 });
  const err = await chat(client, "gpt-4o-mini").catch((e) => e);
  expect(err.status).toBe(403);
  expect(a.seen).toHaveLength(0);
  expect((await chat(client, "llama")).model).toBe("llama");
});

test("a reload adds and removes route rules: routing follows the config in force", async () => {
  stack = await startStack({ pods: [{ model: "llama" }], settings: auth, yaml: [POOL] });
  const s = stack;
  const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
  expect(((await chat(client, "gpt-4o-mini").catch((e) => e)) as { status: number }).status).toBe(404);
  const before = s.gateway.deps.config.current;
  const text = [
    JSON.stringify({
      ...before.settings,
      apiVersion: "gateway.inference.dev/v1alpha1",
      kind: "GatewayConfig",
    }),
    POOL,
    ...backends(),
    route(`
    - matches: [{ headers: [{ type: Exact, name: x-ai-eg-model, value: gpt-4o-mini }] }]
      backendRefs: [{ name: prov-a }]`),
  ].join("\n---\n");
  s.gateway.deps.config.swap(parseConfig(text, "reloaded.yaml"));
  expect((await chat(client, "gpt-4o-mini")).choices[0]!.message.content).toBe("from a");
  s.gateway.deps.config.swap(before);
  expect(((await chat(client, "gpt-4o-mini").catch((e) => e)) as { status: number }).status).toBe(404);
  expect(a.seen).toHaveLength(1);
});
