import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clusterSecretReader } from "../../src/backends/cluster-secrets.ts";
import { KeyStore } from "../../src/backends/credentials.ts";
import { POOL, testConfig } from "../helpers/config.ts";

const TOKEN = "sa-token";
let dir: string;
let kubeconfig: string;
const gets: string[] = [];
let server: ReturnType<typeof Bun.serve>;

beforeAll(() => {
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      const path = new URL(req.url).pathname;
      gets.push(path);
      if (req.headers.get("authorization") !== `Bearer ${TOKEN}`) return new Response("", { status: 401 });
      if (path === "/api/v1/namespaces/llm/secrets/openai-key")
        return Response.json({ kind: "Secret", data: { apiKey: btoa("sk-from-cluster") } });
      if (path === "/api/v1/namespaces/llm/secrets/locked") return new Response("", { status: 403 });
      return new Response("", { status: 404 });
    },
  });
  dir = mkdtempSync(join(tmpdir(), "aigw-kube-"));
  kubeconfig = join(dir, "config");
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "http://127.0.0.1:${server.port}" } }]
users: [{ name: u, user: { token: ${TOKEN} } }]
contexts: [{ name: x, context: { cluster: c, user: u, namespace: llm } }]
current-context: x
`,
  );
});
afterAll(() => {
  server.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

test("with discovery on, a policy's Secret that the file lacks is read from the cluster (discovery's namespace by default)", async () => {
  const now = { t: 0 };
  const keys = new KeyStore(
    () => now.t,
    clusterSecretReader(() => ({ kubeconfig })),
  );
  const cred = (name: string) => ({
    header: "authorization" as const,
    prefix: "Bearer ",
    source: { kind: "secret" as const, namespace: undefined, name },
    from: "BackendSecurityPolicy/p",
  });
  expect(await keys.header(cred("openai-key"), "openai")).toEqual([
    "authorization",
    "Bearer sk-from-cluster",
  ]);
  await keys.header(cred("openai-key"), "openai");
  expect(gets.filter((g) => g.endsWith("/openai-key"))).toHaveLength(1); // cached for 10 s
  const denied = await keys.header(cred("locked"), "openai").catch((e) => e);
  expect(denied.status).toBe(503);
  expect(denied.message).toContain("needs get on secrets");
});

test("the loader keeps a cluster Secret reference when discovery is on, and refuses it when off", () => {
  const docs = [
    POOL,
    `apiVersion: aigateway.envoyproxy.io/v1beta1
kind: AIGatewayRoute
metadata: { name: r }
spec: { rules: [{ backendRefs: [{ name: openai }] }] }`,
    `apiVersion: aigateway.envoyproxy.io/v1beta1
kind: AIServiceBackend
metadata: { name: openai, namespace: llm }
spec: { schema: { name: OpenAI }, backendRef: { name: openai, kind: Backend, group: gateway.envoyproxy.io } }`,
    `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: { name: openai }
spec: { endpoints: [{ fqdn: { hostname: api.openai.com, port: 443 } }] }`,
    `apiVersion: aigateway.envoyproxy.io/v1beta1
kind: BackendSecurityPolicy
metadata: { name: p, namespace: llm }
spec:
  targetRefs: [{ group: aigateway.envoyproxy.io, kind: AIServiceBackend, name: openai }]
  type: APIKey
  apiKey: { secretRef: { name: openai-key } }`,
  ];
  const on = testConfig({ kubernetes: { kubeconfig } }, ...docs);
  expect(on.routes!.backends.get("openai")!.credential!.source).toEqual({
    kind: "secret",
    namespace: "llm",
    name: "openai-key",
  });
  expect(() => testConfig({}, ...docs)).toThrow("a Secret named 'openai-key' in the file");
});
