import { expect, test } from "bun:test";
import { watchAdvice } from "../../src/config/advice.ts";
import { parseConfig } from "../../src/config/load.ts";
import { reloadConfig } from "../../src/config/reload.ts";
import type { FetchFn } from "../../src/deps.ts";
import { createGateway } from "../../src/gateway.ts";
import { createLogger, silentLogger } from "../../src/log.ts";
import { banner } from "../../src/runtime/banner.ts";

function capture() {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: createLogger("warn", (l) => lines.push(JSON.parse(l))) };
}
const warnings = (lines: Record<string, unknown>[]) =>
  lines.filter((l) => l["level"] === "warn").map((l) => String(l["msg"]));

const yaml = (target: string, endpoint = '{ name: a, address: "10.0.0.1:8000", models: [m] }') => `
apiVersion: gateway.inference.dev/v1alpha1
kind: GatewayConfig
logLevel: silent
endpoints: [${endpoint}]
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: { name: alias }
spec:
  poolRef: { name: pool }
  rules:
    - matches: [{ model: { value: friendly } }]
      targets: [{ modelRewrite: ${target} }]
`;

const chat = (model: string) =>
  new Request("http://gw/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
  });

test("a rewrite target no endpoint serves: warned once, the alias is not listed, the 404 names what was asked", async () => {
  const gateway = createGateway({ config: parseConfig(yaml("m-typo"), "gw.yaml"), logger: silentLogger() });
  const { lines, logger } = capture();
  const stop = watchAdvice({ config: gateway.deps.config, pools: gateway.deps.pools, logger });
  expect(warnings(lines)).toEqual([
    "config: InferenceModelRewrite/alias rewrites 'friendly' to 'm-typo', which no endpoint serves: " +
      "those requests get 404 (check the target's spelling, or the endpoints' models)",
  ]);
  const list = (await (await gateway.fetch(new Request("http://gw/v1/models"))).json()) as {
    data: { id: string }[];
  };
  expect(list.data.map((m) => m.id)).toEqual(["m"]);
  const res = await gateway.fetch(chat("friendly"));
  expect(res.status).toBe(404);
  const body = (await res.json()) as { error: { message: string; code: string } };
  expect(body.error.code).toBe("model_not_found");
  expect(body.error.message).toBe(
    "The model 'friendly' is rewritten to 'm-typo', which no endpoint of the pool 'default' serves.",
  );

  // Fixed by a reload: nothing new; broken again: warned again.
  await reloadConfig(gateway.deps.config, yaml("m"), "gw.yaml", silentLogger());
  expect(warnings(lines)).toHaveLength(1);
  await reloadConfig(gateway.deps.config, yaml("m-typo"), "gw.yaml", silentLogger());
  expect(warnings(lines)).toHaveLength(2);
  stop();
  await gateway.stop();
});

test("with models learned from the pods, the warning comes once discovery knows them", async () => {
  const fetch: FetchFn = async (url) =>
    new URL(url).pathname === "/v1/models"
      ? Response.json({ object: "list", data: [{ id: "m" }] })
      : new Response(
          "vllm:num_requests_waiting 0\nvllm:num_requests_running 0\nvllm:kv_cache_usage_perc 0\n",
        );
  const config = parseConfig(yaml("m-typo", '{ name: a, address: "10.0.0.1:8000" }'), "gw.yaml");
  const gateway = createGateway({ config, logger: silentLogger(), fetch });
  const { lines, logger } = capture();
  const stop = watchAdvice({ config: gateway.deps.config, pools: gateway.deps.pools, logger });
  expect(warnings(lines)).toEqual([]); // what the pod serves is not known yet
  gateway.start({ timers: false });
  await gateway.refresh({ models: true });
  expect(warnings(lines)).toHaveLength(1);
  expect(warnings(lines)[0]).toContain("'m-typo', which no endpoint serves");
  stop();
  await gateway.stop();
});

test("a poolRef naming no pool is warned with a near miss; one naming another pool of the file is said so", () => {
  const text = `
apiVersion: gateway.inference.dev/v1alpha1
kind: GatewayConfig
pool: vllm-pool
---
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: { name: vllm-pool }
---
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: { name: other-pool }
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: { name: typo }
spec:
  poolRef: { name: vlm-pool }
  rules: [{ targets: [{ modelRewrite: m }] }]
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: { name: elsewhere }
spec: { poolRef: { name: other-pool } }
`;
  const config = parseConfig(text, "gw.yaml");
  expect(config.rewrites).toEqual([]);
  expect(config.warnings).toEqual([
    "InferenceModelRewrite/typo spec.poolRef.name 'vlm-pool' names no InferencePool (did you mean 'vllm-pool'?): ignored; this gateway fronts 'vllm-pool'",
    "InferenceObjective/elsewhere is for InferencePool 'other-pool', not 'vllm-pool' (the pool this gateway fronts): ignored",
  ]);
});

test("an engine metric the pods never export is warned once per endpoint and field", async () => {
  const text = `
apiVersion: gateway.inference.dev/v1alpha1
kind: GatewayConfig
dataLayer:
  engines:
    llamacpp:
      waiting: llamacpp:requests_deferred
      running: llamacpp:requests_processing
      kvUsage: llamacpp:kv_cache_usage_ratio
    quiet:
      waiting: llamacpp:requests_deferred
      running: llamacpp:requests_processing
endpoints:
  - { name: a, address: "10.0.0.1:8080", engine: llamacpp, models: [m] }
  - { name: b, address: "10.0.0.2:8080", engine: llamacpp, models: [m] }
  - { name: c, address: "10.0.0.3:8080", engine: quiet, models: [m] }
`;
  // What current llama-server exports: no KV-cache usage gauge.
  const fetch: FetchFn = async () =>
    new Response(
      "llamacpp:requests_processing 1\nllamacpp:requests_deferred 0\nllamacpp:n_busy_slots_per_decode 1\n",
    );
  const { lines, logger } = capture();
  const gateway = createGateway({ config: parseConfig(text, "gw.yaml"), logger, fetch });
  gateway.start({ timers: false });
  for (let i = 0; i < 3; i++) await gateway.refresh();
  const kv = warnings(lines).filter((w) => w.includes("kvUsage"));
  expect(kv).toHaveLength(2); // a and b; c's engine names no KV metric
  expect(kv[0]).toContain(
    "endpoint a (engine llamacpp) exports none of the kvUsage metrics (llamacpp:kv_cache_usage_ratio)",
  );
  expect(gateway.deps.endpoints.get("a")?.metrics.runningRequests).toBe(1);
  await gateway.stop();
});

test("the banner lists each endpoint's models, learned ones included, and the aliases with their split", () => {
  const config = parseConfig(
    yaml("m").replace(
      "targets: [{ modelRewrite: m }]",
      "targets: [{ modelRewrite: m, weight: 9 }, { modelRewrite: n, weight: 1 }]",
    ),
    "gw.yaml",
  );
  const text = banner({
    url: "http://localhost:8080",
    runtime: "bun 1",
    pools: [
      {
        name: "pool",
        config,
        endpoints: [
          {
            name: "a",
            address: "10.0.0.1:8000",
            labels: {},
            engine: "vllm",
            models: new Set(["m", "lora"]),
            metrics: {} as never,
          },
          {
            name: "b",
            address: "10.0.0.2:8000",
            labels: {},
            engine: "vllm",
            models: new Set(),
            metrics: {} as never,
          },
        ],
      },
    ],
  });
  expect(text).not.toContain("pool      "); // one pool: no pool lines
  expect(text).toContain("endpoint  a        http://10.0.0.1:8000  m, lora");
  expect(text).toContain(
    "endpoint  b        http://10.0.0.2:8000  (models not known yet: asking its /v1/models)",
  );
  expect(text).toContain("alias     friendly → m 90%, n 10%  (InferenceModelRewrite/alias)");
});
