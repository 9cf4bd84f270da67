import { afterAll, beforeAll, expect, test } from "bun:test";
import OpenAI from "openai";
import { parseConfig } from "../../src/config/load.ts";
import type { Gateway } from "../../src/gateway.ts";
import { serveBun } from "../../src/runtime/serve-bun.ts";
import type { RunningServer } from "../../src/runtime/server.ts";
import { type RunningSimulator, startSimulators } from "../../src/simulator/index.ts";
import { scorerPicker } from "../helpers/config.ts";
import { type ClusterGateway, serveClusterGateway } from "./cluster-gateway.ts";
import { FakeApiServer } from "./fake-apiserver.ts";
import { NS, objective, pod, pool, rewrite, writeKubeconfig } from "./fake-objects.ts";
import { until } from "./helpers.ts";

/**
 * Two namespaces, pools chosen by label: `alpha` (llm) and `beta` (team-b) each with one real
 * simulated pod on loopback, a third pool created and deleted while the gateway runs.
 */
const TEAM = "team-b";
const POOL_API = "inference.networking.k8s.io/v1";
const ON = { labels: { gateway: "on" } };

let api: FakeApiServer;
let pods: RunningSimulator[];
let gateway: Gateway;
let server: RunningServer;
let cluster: ClusterGateway["cluster"];
let running: ClusterGateway;
let client: OpenAI;
let text: string;

beforeAll(async () => {
  pods = await startSimulators(serveBun, [
    { model: "model-a", timeScale: 0.01, port: 0, hostname: "127.0.0.1" },
    { model: "model-b", timeScale: 0.01, port: 0, hostname: "127.0.0.1" },
    { model: "model-c", timeScale: 0.01, port: 0, hostname: "127.0.0.1" },
  ]);
  api = await FakeApiServer.start();
  api.apply(pool({ app: "a" }, [pods[0]!.port], "alpha", ON));
  api.apply(pool({ app: "b" }, [pods[1]!.port], "beta", { ...ON, namespace: TEAM }));
  api.apply(pool({ app: "x" }, [9], "not-served")); // no label: not the gateway's
  api.apply(pod("vllm-0", { ip: "127.0.0.1", labels: { app: "a" } }));
  api.apply(pod("vllm-0", { ip: "127.0.0.1", labels: { app: "b" }, namespace: TEAM }));
  api.apply(pod("gamma-0", { ip: "127.0.0.1", labels: { app: "c" } }));
  api.apply(objective("critical", 5, "alpha"));
  api.apply(
    rewrite("alias", [{ from: ["my-alias"], to: { "model-b": undefined } }], {
      poolName: "beta",
      namespace: TEAM,
    }),
  );
  const settings = {
    apiVersion: "gateway.inference.dev/v1alpha1",
    kind: "GatewayConfig",
    logLevel: "silent",
    kubernetes: {
      namespaces: [NS, TEAM],
      poolSelector: { matchLabels: { gateway: "on" } },
      kubeconfig: writeKubeconfig(api.url, api.token),
    },
    dataLayer: { scrapeIntervalMs: 20 },
  };
  text = [
    JSON.stringify(settings),
    scorerPicker("alpha", "queue-scorer"),
    scorerPicker(undefined, "prefix-cache-scorer"),
  ].join("\n---\n");
  running = await serveClusterGateway(text, 5);
  ({ gateway, server, cluster } = running);
  client = new OpenAI({ baseURL: `http://127.0.0.1:${server.port}/v1`, apiKey: "unused", maxRetries: 0 });
});

afterAll(async () => {
  await running.stop();
  await api.stop();
  await Promise.all(pods.map((p) => p.close()));
});

const served = () => gateway.deps.pools.list().map((p) => p.name);
const learned = (pool: string, model: string) =>
  gateway.deps.pools
    .get(pool)
    ?.endpoints.list()
    .some((e) => e.models.has(model)) || undefined;
const chat = (model: string) =>
  client.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }], max_tokens: 2 });

test("every labelled pool of both namespaces is a pool of the gateway, with its own pods, objectives, rewrites and picker", async () => {
  await until(
    () => served().join() === "alpha,beta" || undefined,
    () => served().join(),
  );
  const alpha = gateway.deps.pools.get("alpha")!;
  const beta = gateway.deps.pools.get("beta")!;
  expect(alpha.endpoints.list().map((e) => e.name)).toEqual([`${NS}/vllm-0:${pods[0]!.port}`]);
  expect(beta.endpoints.list().map((e) => e.name)).toEqual([`${TEAM}/vllm-0:${pods[1]!.port}`]);
  await until(() => alpha.config.current.objectives.length === 1 || undefined, "alpha's objective");
  expect(beta.config.current.objectives).toEqual([]);
  await until(() => beta.config.current.rewrites.length === 1 || undefined, "beta's rewrite");
  expect(alpha.config.current.rewrites).toEqual([]);
  expect(alpha.config.current.pickerConfig?.plugins[0]?.type).toBe("queue-scorer");
  expect(beta.config.current.pickerConfig?.plugins[0]?.type).toBe("prefix-cache-scorer");
});

test("a request reaches the pod of the pool serving its model, a rewrite of one pool included", async () => {
  await until(() => learned("alpha", "model-a") && learned("beta", "model-b"), "models learned");
  expect((await chat("model-a")).model).toBe("model-a");
  expect((await chat("model-b")).model).toBe("model-b");
  expect((await chat("my-alias")).model).toBe("model-b");
  expect(pods[0]!.simulator.stats().completed).toBe(1);
  expect(pods[1]!.simulator.stats().completed).toBe(2);
});

test("a pool created while running is served; deleted, it is retired and its model is no longer found", async () => {
  api.apply(pool({ app: "c" }, [pods[2]!.port], "gamma", ON));
  await until(() => learned("gamma", "model-c"), "gamma's pod and model");
  expect(served()).toEqual(["alpha", "gamma", "beta"]); // namespace, then name
  expect((await chat("model-c")).model).toBe("model-c");
  const gamma = gateway.deps.pools.get("gamma")!;
  api.remove(POOL_API, "InferencePool", "gamma");
  await until(
    () => served().join() === "alpha,beta" || undefined,
    () => served().join(),
  );
  // The retired pool kept its endpoints to finish what it had: discovery stopped feeding it, no more.
  expect(gamma.endpoints.list().length).toBe(1);
  const err = await chat("model-c").catch((e: unknown) => e);
  expect(err).toBeInstanceOf(OpenAI.NotFoundError);
  expect((await chat("model-a")).model).toBe("model-a");
  // Stopped, it let go of the in-flight counts: they track only the serving pools' endpoints.
  const serving = new Set(
    ["alpha", "beta"].flatMap((p) =>
      gateway.deps.pools
        .get(p)!
        .endpoints.list()
        .map((e) => e.name),
    ),
  );
  await until(
    () => gateway.deps.inflight.tracked === serving.size || undefined,
    () => `${gateway.deps.inflight.tracked} tracked`,
  );
});

test("requests to a pool keep succeeding while another pool is created and deleted around them", async () => {
  const statuses: number[] = [];
  let churning = true;
  const load = (async () => {
    for (let i = 0; i < 200 && (churning || statuses.length < 20); i++) {
      const res = await fetch(`http://127.0.0.1:${server.port}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          model: "model-a",
          messages: [{ role: "user", content: "hi" }],
          max_tokens: 2,
        }),
      });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
  })();
  for (let round = 0; round < 3; round++) {
    api.apply(pool({ app: "c" }, [pods[2]!.port], "gamma", ON));
    await until(
      () => gateway.deps.pools.get("gamma")?.endpoints.list().length === 1 || undefined,
      "gamma in",
    );
    api.remove(POOL_API, "InferencePool", "gamma");
    await until(() => !gateway.deps.pools.get("gamma") || undefined, "gamma out");
  }
  churning = false;
  await load;
  expect(statuses.length).toBeGreaterThanOrEqual(20);
  expect(statuses.filter((s) => s !== 200)).toEqual([]);
});

test("a file reload keeps the cluster's pools (the overlay lays them over the new file)", async () => {
  gateway.deps.config.swap(cluster.overlay.apply(parseConfig(text, "k8s.yaml")));
  expect(served()).toEqual(["alpha", "beta"]);
  expect(gateway.deps.pools.get("alpha")!.config.current.objectives.map((o) => o.metadata.name)).toEqual([
    "critical",
  ]);
  expect((await chat("my-alias")).model).toBe("model-b");
});

test("a reload that changes the namespaces watches anew: team-b's pool leaves, alpha's endpoints are renamed", async () => {
  const k8s = JSON.parse(text.split("\n---\n")[0]!) as { kubernetes: { namespaces: string[] } };
  k8s.kubernetes.namespaces = [NS];
  const narrowed = [JSON.stringify(k8s), ...text.split("\n---\n").slice(1)].join("\n---\n");
  gateway.deps.config.swap(cluster.overlay.apply(parseConfig(narrowed, "k8s.yaml")));
  await until(
    () => served().join() === "alpha" || undefined,
    () => served().join(),
  );
  const alpha = gateway.deps.pools.get("alpha")!;
  // One namespace: endpoint names without it.
  await until(
    () =>
      alpha.endpoints
        .list()
        .map((e) => e.name)
        .join() === `vllm-0:${pods[0]!.port}` || undefined,
    () =>
      alpha.endpoints
        .list()
        .map((e) => e.name)
        .join(),
  );
  await until(() => learned("alpha", "model-a"), "model-a learned again");
  expect((await chat("model-a")).model).toBe("model-a");
  expect(await chat("model-b").catch((e: unknown) => e)).toBeInstanceOf(OpenAI.NotFoundError);
});
