import { expect, test } from "bun:test";
import { type FetchLike, startKubernetesDiscovery } from "../../src/kubernetes/index.ts";
import { createLogger } from "../../src/log.ts";
import { FakeTime } from "../helpers/fake-time.ts";
import { FakeApiServer } from "./fake-apiserver.ts";
import { NS, pod, pool, writeKubeconfig } from "./fake-objects.ts";
import { status } from "./fake-protocol.ts";
import { TEST_TUNING, until } from "./helpers.ts";

const TEAM = "team-b";

test("a namespace that cannot be listed (no RoleBinding) holds the others' pools back only firstSyncWaitMs", async () => {
  const time = new FakeTime();
  const api = await FakeApiServer.start();
  api.apply(pool({ app: "vllm" }, [8000], "alpha"));
  api.apply(pool({ app: "vllm" }, [8000], "beta", { namespace: TEAM }));
  api.apply(pod("vllm-0", { ip: "10.0.0.1" }));
  // The API server's answer to a service account without rights in team-b.
  const forbidden: FetchLike = (url, init) =>
    url.includes(`/namespaces/${TEAM}/`)
      ? Promise.resolve(Response.json(status(403, "Forbidden", "forbidden"), { status: 403 }))
      : fetch(url, init);
  const reported: string[][] = [];
  const logs: { level: string; msg: string; namespaces?: string[] }[] = [];
  const discovery = await startKubernetesDiscovery({
    namespaces: [NS, TEAM],
    poolSelector: {},
    kubeconfig: writeKubeconfig(api.url, api.token),
    fetch: forbidden,
    logger: createLogger("debug", (l) => logs.push(JSON.parse(l))),
    tuning: { ...TEST_TUNING, setTimer: time.setTimer, firstSyncWaitMs: 5_000 },
    onPools: (ps) => reported.push(ps.map((p) => p.key)),
    onEndpoints: () => {},
    onObjectives: () => {},
    onRewrites: () => {},
  });
  try {
    // llm is listed (its pool's pods are being read), team-b is refused: nothing reported yet.
    await until(
      () => api.requests.some((r) => r.path === `/api/v1/namespaces/${NS}/pods`) || undefined,
      "llm's pods",
    );
    expect(reported).toEqual([]);
    await time.advanceAsync(5_000);
    await until(() => reported.length > 0 || undefined, "the first report");
    expect(reported.at(-1)).toEqual(["alpha"]);
    const warned = logs.filter((l) => l.msg.includes("namespaces not listed yet"));
    expect(warned.map((l) => l.namespaces)).toEqual([[TEAM]]);
  } finally {
    await discovery.stop();
    await api.stop();
  }
});
