import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApiClient, nodeTlsFetch } from "../../src/kubernetes/api-client.ts";
import { loadKubeconfig, resolveClusterConfig } from "../../src/kubernetes/cluster-config.ts";
import { startKubernetesDiscovery } from "../../src/kubernetes/index.ts";
import { silentLogger } from "../../src/log.ts";
import { FakeApiServer } from "./fake-apiserver.ts";
import { NS, POOL, pod, pool } from "./fake-objects.ts";
import { TEST_TUNING, until } from "./helpers.ts";
import { haveOpenssl, makeCerts, type TestCerts } from "./tls-certs.ts";

let certs: TestCerts;
let server: FakeApiServer;

function kubeconfig(url: string, token: string, ca: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "kcfg-tls-")), "config");
  writeFileSync(
    file,
    `current-context: c
clusters: [{name: k, cluster: {server: "${url}", certificate-authority-data: ${Buffer.from(ca).toString("base64")}}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
users: [{name: u, user: {token: ${token}}}]
`,
  );
  return file;
}

describe.skipIf(!haveOpenssl)("kubernetes client over TLS (CA from the kubeconfig)", () => {
  beforeAll(async () => {
    certs = makeCerts();
    server = await FakeApiServer.start({ tls: { cert: certs.cert, key: certs.key } });
  });
  afterAll(() => server.stop());

  const list = async (ca: string, runtime: "bun" | "node") => {
    const cfg = await loadKubeconfig(kubeconfig(server.url, server.token, ca));
    const client = createApiClient(cfg, runtime === "node" ? { fetch: nodeTlsFetch(cfg.tls) } : {});
    const res = await client.get(`/api/v1/namespaces/${NS}/pods`, {}, new AbortController().signal);
    return (await res.json()) as { kind: string };
  };

  test("Bun fetch trusts the kubeconfig CA", async () => {
    expect((await list(certs.ca, "bun")).kind).toBe("PodList");
  });

  test("the node:https transport trusts the kubeconfig CA", async () => {
    expect((await list(certs.ca, "node")).kind).toBe("PodList");
  });

  test("a server signed by another CA is rejected", async () => {
    await expect(list(certs.otherCa, "bun")).rejects.toThrow();
    await expect(list(certs.otherCa, "node")).rejects.toThrow();
  });

  test("in-cluster: env + service-account files reach the API server over https and discover endpoints", async () => {
    const sa = mkdtempSync(join(tmpdir(), "sa-"));
    writeFileSync(join(sa, "token"), `${server.token}\n`);
    writeFileSync(join(sa, "ca.crt"), certs.ca);
    writeFileSync(join(sa, "namespace"), NS);
    const port = new URL(server.url).port;
    const cluster = await resolveClusterConfig({
      env: { KUBERNETES_SERVICE_HOST: "127.0.0.1", KUBERNETES_SERVICE_PORT: port },
      serviceAccountDir: sa,
    });
    expect(cluster.server).toBe(`https://127.0.0.1:${port}`);
    server.apply(pool());
    server.apply(pod("vllm-0", { ip: "10.0.0.1" }));
    let names: string[] = [];
    const d = await startKubernetesDiscovery({
      namespaces: [NS],
      pools: [POOL],
      cluster,
      logger: silentLogger(),
      tuning: TEST_TUNING,
      onEndpoints: (_pool, e) => {
        names = e.map((x) => x.name);
      },
      onPools: () => {},
      onObjectives: () => {},
      onRewrites: () => {},
    });
    try {
      await d.ready;
      server.apply(pod("vllm-1", { ip: "10.0.0.2" }));
      await until(() => names.length === 2 || undefined, "two endpoints over TLS");
    } finally {
      await d.stop();
    }
  });
});
