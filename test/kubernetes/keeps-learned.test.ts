import { expect, test } from "bun:test";
import { parseConfig } from "../../src/config/load.ts";
import type { FetchFn } from "../../src/deps.ts";
import { createGateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { attachKubernetes } from "../../src/runtime/kubernetes.ts";
import { FakeApiServer } from "./fake-apiserver.ts";
import { NS, POOL, pod, pool, writeKubeconfig } from "./fake-objects.ts";
import { TEST_TUNING, until } from "./helpers.ts";

/** Each pod IP serves one model, learned from its /v1/models. */
const SERVES: Record<string, string> = { "10.1.0.1": "m-a", "10.1.0.2": "m-b", "10.1.0.3": "m-c" };

test("a change of the pod set keeps the models learned from the pods that stay", async () => {
  const api = await FakeApiServer.start();
  api.apply(pool({ app: "vllm" }, [8000]));
  for (const [i, ip] of Object.keys(SERVES).entries()) api.apply(pod(`p${i}`, { ip }));
  const fetch: FetchFn = async (url) => {
    const u = new URL(url);
    if (u.pathname === "/v1/models")
      return Response.json({ object: "list", data: [{ id: SERVES[u.hostname] }] });
    return new Response("");
  };
  const text = JSON.stringify({
    apiVersion: "gateway.inference.dev/v1alpha1",
    kind: "GatewayConfig",
    logLevel: "silent",
    pool: POOL,
    kubernetes: { namespace: NS, kubeconfig: writeKubeconfig(api.url, api.token) },
  });
  const gateway = createGateway({ config: parseConfig(text, "k8s.yaml"), logger: silentLogger(), fetch });
  const cluster = await attachKubernetes({ gateway, logger: silentLogger(), tuning: TEST_TUNING });
  try {
    gateway.start({ timers: false });
    await cluster.ready;
    const store = gateway.deps.endpoints;
    await until(() => store.list().length === 3, "three endpoints");
    await gateway.refresh({ models: true });
    expect(store.serving("m-a").map((e) => e.address)).toEqual(["10.1.0.1:8000"]);

    api.remove("v1", "Pod", "p2", NS);
    await until(() => store.list().length === 2, "the removed pod to leave");
    // No discovery round since: the pods that stay still serve only their own model.
    expect(store.serving("m-a").map((e) => e.address)).toEqual(["10.1.0.1:8000"]);
    expect(store.serving("m-b").map((e) => e.address)).toEqual(["10.1.0.2:8000"]);
    expect([...store.models()].sort()).toEqual(["m-a", "m-b"]);
  } finally {
    await cluster.stop();
    await gateway.stop();
    await api.stop();
  }
});
