import { expect, test } from "bun:test";
import { seededRandom } from "../../src/clock.ts";
import { parseConfig } from "../../src/config/load.ts";
import { reloadConfig } from "../../src/config/reload.ts";
import type { FetchFn } from "../../src/deps.ts";
import { createGateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";

/** Three endpoints whose models are learned from their /v1/models; each serves one model. */
const SERVES: Record<string, string> = {
  "10.0.0.1:8000": "m-a",
  "10.0.0.2:8000": "m-b",
  "10.0.0.3:8000": "m-c",
};

const yaml = (owner: string) => `
apiVersion: gateway.inference.dev/v1alpha1
kind: GatewayConfig
logLevel: silent
catalog: { defaultOwner: ${owner} }
endpoints:
  - { name: a, address: "10.0.0.1:8000" }
  - { name: b, address: "10.0.0.2:8000" }
  - { name: c, address: "10.0.0.3:8000" }
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: { name: alias }
spec:
  poolRef: { name: pool }
  rules:
    - matches: [{ model: { value: alias-a } }]
      targets: [{ modelRewrite: m-a }]
`;

/** Pods that answer /v1/models with their model and 404 a chat for any other model, like vLLM. */
function pods() {
  const served: { address: string; model: string }[] = [];
  const fetch: FetchFn = async (url, init) => {
    const u = new URL(url);
    const model = SERVES[u.host]!;
    if (u.pathname === "/v1/models") return Response.json({ object: "list", data: [{ id: model }] });
    if (u.pathname === "/metrics")
      return new Response(
        "vllm:num_requests_waiting 0\nvllm:num_requests_running 0\nvllm:kv_cache_usage_perc 0\n",
      );
    const body = JSON.parse(new TextDecoder().decode(init.body as Uint8Array)) as { model: string };
    served.push({ address: u.host, model: body.model });
    if (body.model !== model) return Response.json({ error: { message: "not found" } }, { status: 404 });
    return Response.json({ object: "chat.completion", model, choices: [] });
  };
  return { fetch, served };
}

test("a config reload keeps the models learned from the pods: requests still reach only pods serving them", async () => {
  const up = pods();
  const gateway = createGateway({
    config: parseConfig(yaml("before"), "gw.yaml"),
    logger: silentLogger(),
    random: seededRandom(7),
    fetch: up.fetch,
  });
  gateway.start({ timers: false });
  await gateway.refresh({ models: true });
  expect(gateway.deps.endpoints.serving("m-a").map((e) => e.name)).toEqual(["a"]);

  const metricsBefore = gateway.deps.endpoints.get("c")!.metrics;
  expect(metricsBefore.updatedAt).toBeGreaterThan(0);
  for (let i = 0; i < 5; i++) gateway.deps.health.failure("c", "test: refused");
  expect(gateway.deps.health.isEjected("c")).toBe(true);

  // An unrelated edit; no /v1/models round happens after it.
  expect(await reloadConfig(gateway.deps.config, yaml("after"), "gw.yaml", silentLogger())).toBe(true);
  expect(gateway.deps.config.current.settings.catalog.defaultOwner).toBe("after");
  // Metrics and health of endpoints that stay are kept too.
  expect(gateway.deps.endpoints.get("c")!.metrics).toBe(metricsBefore);
  expect(gateway.deps.health.isEjected("c")).toBe(true);

  const models = ["m-a", "m-b", "m-c", "alias-a"];
  for (let i = 0; i < 300; i++) {
    const res = await gateway.fetch(
      new Request("http://gw/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          model: models[i % models.length],
          messages: [{ role: "user", content: "hi" }],
        }),
      }),
    );
    expect(res.status).toBe(200);
    await res.body?.cancel();
  }
  expect(up.served.length).toBe(300);
  expect(up.served.filter((s) => SERVES[s.address] !== s.model)).toEqual([]);

  const list = (await (await gateway.fetch(new Request("http://gw/v1/models"))).json()) as {
    data: { id: string }[];
  };
  expect(list.data.map((m) => m.id)).toEqual(["alias-a", "m-a", "m-b", "m-c"]);
  await gateway.stop();
});

test("an endpoint whose address changes on reload forgets what the old pod served", async () => {
  const up = pods();
  const gateway = createGateway({
    config: parseConfig(yaml("x"), "gw.yaml"),
    logger: silentLogger(),
    fetch: up.fetch,
  });
  gateway.start({ timers: false });
  await gateway.refresh({ models: true });
  const moved = yaml("x").replace('name: c, address: "10.0.0.3:8000"', 'name: c, address: "10.0.0.9:8000"');
  expect(await reloadConfig(gateway.deps.config, moved, "gw.yaml", silentLogger())).toBe(true);
  expect(gateway.deps.endpoints.get("c")?.models.size).toBe(0);
  expect(gateway.deps.endpoints.get("a")?.models).toEqual(new Set(["m-a"]));
  await gateway.stop();
});
