import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../src/config/errors.ts";
import { createApiClient } from "../../src/kubernetes/api-client.ts";
import { loadKubeconfig, resolveClusterConfig } from "../../src/kubernetes/cluster-config.ts";
import { writeKubeconfig } from "./fake-objects.ts";

const temp = () => mkdtempSync(join(tmpdir(), "kcfg-"));

function serviceAccount(token = "sa-token\n"): string {
  const dir = temp();
  writeFileSync(join(dir, "token"), token);
  writeFileSync(join(dir, "ca.crt"), "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n");
  writeFileSync(join(dir, "namespace"), "llm\n");
  return dir;
}

describe("kubernetes cluster configuration", () => {
  test("in-cluster: service host/port env + service-account files give the base URL, token, CA and namespace", async () => {
    const saDir = serviceAccount();
    const cfg = await resolveClusterConfig({
      env: { KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "6443" },
      serviceAccountDir: saDir,
      home: temp(),
    });
    expect(cfg.server).toBe("https://10.96.0.1:6443");
    expect(cfg.source).toBe("in-cluster");
    expect(cfg.tokenFile).toBe(join(saDir, "token"));
    expect(cfg.tls.ca).toContain("BEGIN CERTIFICATE");
    expect(cfg.tls.rejectUnauthorized).toBe(true);
    expect(cfg.namespace).toBe("llm");
  });

  test("in-cluster: an IPv6 service host is bracketed; the port defaults to 443", async () => {
    const cfg = await resolveClusterConfig({
      env: { KUBERNETES_SERVICE_HOST: "fd00::1" },
      serviceAccountDir: serviceAccount(),
      home: temp(),
    });
    expect(cfg.server).toBe("https://[fd00::1]:443");
  });

  test("in-cluster: the client sends the service-account token, re-read when it rotates", async () => {
    const saDir = serviceAccount("first\n");
    const cfg = await resolveClusterConfig({
      env: { KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" },
      serviceAccountDir: saDir,
    });
    const seen: { url: string; auth: string | undefined }[] = [];
    let now = 0;
    const client = createApiClient(cfg, {
      now: () => now,
      tokenTtlMs: 60_000,
      fetch: async (url, init) => {
        seen.push({ url, auth: init.headers["authorization"] });
        return Response.json({});
      },
    });
    const signal = new AbortController().signal;
    await client.get("/api/v1/namespaces/llm/pods", { labelSelector: "app=vllm" }, signal);
    writeFileSync(join(saDir, "token"), "second\n");
    await client.get("/api/v1/namespaces/llm/pods", {}, signal);
    now = 61_000;
    await client.get("/api/v1/namespaces/llm/pods", {}, signal);
    expect(seen.map((s) => s.auth)).toEqual(["Bearer first", "Bearer first", "Bearer second"]);
    expect(seen[0]!.url).toBe("https://10.96.0.1:443/api/v1/namespaces/llm/pods?labelSelector=app%3Dvllm");
  });

  test("precedence: an explicit kubeconfig beats in-cluster; in-cluster beats $KUBECONFIG and ~/.kube/config", async () => {
    const explicit = writeKubeconfig("http://127.0.0.1:1", "t1");
    const viaEnv = writeKubeconfig("http://127.0.0.1:2", "t2");
    const home = temp();
    mkdirSync(join(home, ".kube"));
    writeFileSync(
      join(home, ".kube", "config"),
      await Bun.file(writeKubeconfig("http://127.0.0.1:3", "t3")).text(),
    );
    const sa = serviceAccount();
    const inClusterEnv = {
      KUBERNETES_SERVICE_HOST: "10.0.0.1",
      KUBERNETES_SERVICE_PORT: "443",
      KUBECONFIG: viaEnv,
    };
    expect(
      (await resolveClusterConfig({ kubeconfig: explicit, env: inClusterEnv, serviceAccountDir: sa })).server,
    ).toBe("http://127.0.0.1:1");
    expect((await resolveClusterConfig({ env: inClusterEnv, serviceAccountDir: sa, home })).source).toBe(
      "in-cluster",
    );
    expect((await resolveClusterConfig({ env: { KUBECONFIG: `/nope:${viaEnv}` }, home })).token).toBe("t2");
    expect((await resolveClusterConfig({ env: {}, home })).token).toBe("t3");
    await expect(resolveClusterConfig({ env: {}, home: temp() })).rejects.toBeInstanceOf(ConfigError);
  });

  test("kubeconfig: CA and client certificate data, relative file paths, insecure flag, context namespace", async () => {
    const dir = temp();
    writeFileSync(join(dir, "client.crt"), "CLIENT-CERT");
    writeFileSync(join(dir, "token"), "file-token");
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    const file = join(dir, "config");
    writeFileSync(
      file,
      `apiVersion: v1
kind: Config
current-context: b
clusters:
  - {name: a, cluster: {server: "https://a.example:6443"}}
  - {name: b, cluster: {server: "https://b.example:6443/", certificate-authority-data: ${b64("THE-CA")}, insecure-skip-tls-verify: true}}
contexts:
  - {name: a, context: {cluster: a, user: ua}}
  - {name: b, context: {cluster: b, user: ub, namespace: team}}
users:
  - {name: ua, user: {token: nope}}
  - {name: ub, user: {tokenFile: token, client-certificate: client.crt, client-key-data: ${b64("CLIENT-KEY")}}}
`,
    );
    const cfg = await loadKubeconfig(file);
    expect(cfg.server).toBe("https://b.example:6443");
    expect(cfg.tls).toEqual({
      rejectUnauthorized: false,
      ca: "THE-CA",
      cert: "CLIENT-CERT",
      key: "CLIENT-KEY",
    });
    expect(cfg.tokenFile).toBe(join(dir, "token"));
    expect(cfg.namespace).toBe("team");
  });

  test("kubeconfig: exec credential plugins are refused with an actionable error", async () => {
    const file = join(temp(), "config");
    writeFileSync(
      file,
      `current-context: c
clusters: [{name: k, cluster: {server: "https://k.example"}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
users: [{name: u, user: {exec: {command: aws, args: [eks, get-token]}}}]
`,
    );
    const err = await loadKubeconfig(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).file).toBe(file);
    expect((err as ConfigError).message).toContain("exec and auth-provider plugins are not supported");
  });

  test("kubeconfig: a context naming a missing cluster names the field", async () => {
    const file = join(temp(), "config");
    writeFileSync(
      file,
      "current-context: c\ncontexts: [{name: c, context: {cluster: gone, user: u}}]\nclusters: []\n",
    );
    const err = (await loadKubeconfig(file).catch((e: unknown) => e)) as ConfigError;
    expect(err.path).toBe("clusters");
    expect(err.message).toContain('"gone"');
  });
});
