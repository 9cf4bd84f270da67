import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Gateway } from "../../src/gateway.ts";
import { serveBun } from "../../src/runtime/serve-bun.ts";
import type { RunningServer } from "../../src/runtime/server.ts";
import { type RunningSimulator, startSimulators } from "../../src/simulator/index.ts";
import { type ClusterGateway, serveClusterGateway } from "./cluster-gateway.ts";
import { FakeApiServer } from "./fake-apiserver.ts";
import { NS, POOL, pod, pool, rewrite, writeKubeconfig } from "./fake-objects.ts";
import { until } from "./helpers.ts";

/** Polls an async condition (generous timeout: CI machines are noisy). */
async function eventually(probe: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

let api: FakeApiServer;
let pods: RunningSimulator[];
let gateway: Gateway;
let server: RunningServer;
let served: ClusterGateway;
let port: number;

/** Two simulated pods on one port number at two loopback addresses, like two pod IPs. */
beforeAll(async () => {
  for (let attempt = 0; ; attempt++) {
    port = 20000 + Math.floor(Math.random() * 20000);
    try {
      pods = await startSimulators(serveBun, [
        { model: "base", loras: ["lora-v1", "lora-v2"], timeScale: 0.01, port, hostname: "127.0.0.1" },
        { model: "base", loras: ["lora-v1", "lora-v2"], timeScale: 0.01, port, hostname: "127.0.0.2" },
      ]);
      break;
    } catch (err) {
      if (attempt > 10) throw err;
    }
  }
  api = await FakeApiServer.start();
  api.apply(pool({ app: "vllm" }, [port]));
  api.apply(pod("vllm-a", { ip: "127.0.0.1" }));
  const text = [
    `{"apiVersion":"gateway.inference.dev/v1alpha1","kind":"GatewayConfig","logLevel":"silent","pool":"${POOL}",` +
      `"kubernetes":{"namespace":"${NS}","kubeconfig":"${writeKubeconfig(api.url, api.token)}"},"dataLayer":{"scrapeIntervalMs":20}}`,
  ].join("\n");
  served = await serveClusterGateway(text, 3);
  ({ gateway, server } = served);
});

afterAll(async () => {
  await served.stop();
  await api.stop();
  await Promise.all(pods.map((p) => p.close()));
});

const names = () =>
  gateway.deps.endpoints
    .list()
    .map((e) => e.address)
    .sort();

async function chat(model: string) {
  const res = await fetch(`http://127.0.0.1:${server.port}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }], max_tokens: 1 }),
  });
  return { status: res.status, body: (await res.json()) as { model?: string } };
}

test("pods of the watched pool serve requests; a pod that turns Ready joins, one deleted leaves", async () => {
  await until(
    () => (names().length === 1 ? true : undefined),
    () => "one endpoint",
  );
  expect((await chat("base")).status).toBe(200);
  api.apply(pod("vllm-b", { ip: "127.0.0.2", ready: false }));
  // Watch events arrive in order: once a later pod shows up, vllm-b's event was handled too.
  api.apply(pod("marker", { ip: "127.0.0.3" }));
  await until(
    () => (names().includes(`127.0.0.3:${port}`) ? true : undefined),
    () => "the marker pod",
  );
  expect(names()).toEqual([`127.0.0.1:${port}`, `127.0.0.3:${port}`]); // not vllm-b: it is not Ready
  api.remove("v1", "Pod", "marker");
  await until(
    () => (names().length === 1 ? true : undefined),
    () => "the marker pod gone",
  );
  api.apply(pod("vllm-b", { ip: "127.0.0.2", ready: true }));
  await until(
    () => (names().length === 2 ? true : undefined),
    () => "two endpoints",
  );
  api.remove("v1", "Pod", "vllm-a");
  await until(
    () => (names().join() === `127.0.0.2:${port}` ? true : undefined),
    () => "only vllm-b",
  );
  for (let i = 0; i < 5; i++) expect((await chat("base")).status).toBe(200);
  expect(pods[1]!.simulator.stats().completed).toBeGreaterThanOrEqual(5);
});

test("a rewrite created, edited and deleted in the cluster is followed by the next request", async () => {
  await until(
    () => (gateway.deps.endpoints.list().every((e) => e.models.has("lora-v1")) ? true : undefined),
    () => "models learned",
  );
  expect((await chat("my-alias")).status).toBe(404);
  api.apply(rewrite("alias", [{ from: ["my-alias"], to: { "lora-v1": undefined } }]));
  await eventually(async () => (await chat("my-alias")).body.model === "lora-v1", "alias → v1");
  api.apply(rewrite("alias", [{ from: ["my-alias"], to: { "lora-v2": undefined } }]));
  await eventually(async () => (await chat("my-alias")).body.model === "lora-v2", "alias → v2");
  api.remove("inference.networking.x-k8s.io/v1alpha2", "InferenceModelRewrite", "alias");
  await eventually(async () => (await chat("my-alias")).status === 404, "alias gone");
});
