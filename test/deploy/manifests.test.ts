/**
 * Static checks of deploy/ and the Dockerfile (no cluster, no Docker engine here): every
 * YAML parses, every document is a kind we know, the gateway config and the example
 * resources pass the gateway's own schemas, and the Deployment, Service, ConfigMap,
 * RBAC and image agree with one another.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseAllDocuments } from "yaml";
import { parseConfig } from "../../src/config/load.ts";
import { BUN_START_ENV } from "../../src/runtime/bun-start-env.ts";

const ROOT = resolve(import.meta.dir, "../..");
const DEPLOY = join(ROOT, "deploy");

const KNOWN: Record<string, readonly string[]> = {
  v1: ["Namespace", "ConfigMap", "Secret", "Service", "ServiceAccount"],
  "apps/v1": ["Deployment"],
  "policy/v1": ["PodDisruptionBudget"],
  "rbac.authorization.k8s.io/v1": ["Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"],
  "apiextensions.k8s.io/v1": ["CustomResourceDefinition"],
  "kustomize.config.k8s.io/v1beta1": ["Kustomization"],
  "inference.networking.k8s.io/v1": ["InferencePool"],
  "inference.networking.x-k8s.io/v1alpha2": ["InferenceObjective", "InferenceModelRewrite"],
  "llm-d.ai/v1alpha2": ["InferenceObjective", "InferenceModelRewrite"],
};
/** Kinds the gateway reads from config files and from the cluster. */
const GATEWAY_KINDS = new Set(["InferencePool", "InferenceObjective", "InferenceModelRewrite"]);

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form; each check reads the fields it needs.
type Doc = Record<string, any>;
interface Located {
  file: string;
  doc: Doc;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

function load(): Located[] {
  return yamlFiles(DEPLOY).flatMap((path) => {
    const file = relative(ROOT, path);
    return parseAllDocuments(readFileSync(path, "utf8")).flatMap((d) => {
      if (d.errors.length) throw new Error(`${file}: ${d.errors[0]?.message}`);
      const doc = d.toJS() as Doc | null;
      return doc ? [{ file, doc }] : [];
    });
  });
}

const docs = load();
const all = (kind: string) => docs.filter((d) => d.doc["kind"] === kind);
const one = (kind: string, name: string): Located => {
  const found = docs.find((d) => d.doc["kind"] === kind && d.doc["metadata"]?.name === name);
  if (!found) throw new Error(`no ${kind}/${name} under deploy/`);
  return found;
};

const gateway = one("Deployment", "inference-gateway").doc;
const podSpec: Doc = gateway["spec"].template.spec;
const container: Doc = podSpec["containers"][0];
const configMap = one("ConfigMap", "inference-gateway-config").doc;
const gatewayYaml: string = configMap["data"]["gateway.yaml"];
const examples = docs.filter(
  (d) => d.file.startsWith("deploy/examples/") && GATEWAY_KINDS.has(d.doc["kind"]),
);
const namespace: string = gateway["metadata"].namespace;

describe("deploy/: every document", () => {
  test("parses, and is a kind/apiVersion we know", () => {
    expect(docs.length).toBeGreaterThan(5);
    for (const { file, doc } of docs) {
      const where = `${file}: ${doc["kind"]}/${doc["metadata"]?.name}`;
      expect(KNOWN[doc["apiVersion"]], `${where}: apiVersion ${doc["apiVersion"]}`).toBeDefined();
      expect(KNOWN[doc["apiVersion"]], where).toContain(doc["kind"]);
      if (doc["kind"] !== "Kustomization") expect(doc["metadata"]?.name, where).toBeTruthy();
    }
  });

  test("namespaced resources all live in the gateway's namespace", () => {
    const clusterScoped = new Set([
      "Namespace",
      "CustomResourceDefinition",
      "ClusterRole",
      "ClusterRoleBinding",
    ]);
    for (const { file, doc } of docs) {
      if (clusterScoped.has(doc["kind"]) || doc["kind"] === "Kustomization") continue;
      expect(doc["metadata"].namespace, `${file}: ${doc["kind"]}/${doc["metadata"].name}`).toBe(namespace);
    }
    expect(one("Namespace", namespace)).toBeDefined();
  });

  test("the kustomization lists files that exist", () => {
    const kustomizations = all("Kustomization");
    expect(kustomizations).toHaveLength(1);
    for (const r of kustomizations[0]!.doc["resources"] as string[])
      expect(existsSync(join(DEPLOY, r)), r).toBe(true);
    const top = readdirSync(DEPLOY).filter((f) => /\.ya?ml$/.test(f) && f !== "kustomization.yaml");
    expect([...top].sort()).toEqual([...(kustomizations[0]!.doc["resources"] as string[])].sort());
  });
});

describe("deploy/: the gateway config and the example resources", () => {
  test("the ConfigMap's gateway.yaml passes the gateway's schema and uses Kubernetes discovery", () => {
    const config = parseConfig(gatewayYaml, "deploy/configmap.yaml gateway.yaml");
    expect(config.settings.kubernetes?.pool).toBe(config.settings.pool!);
    expect(config.settings.port).toBe(container["ports"][0].containerPort);
  });

  test("the example InferencePool, InferenceObjectives and InferenceModelRewrite pass the gateway's schemas", () => {
    expect(new Set(examples.map((e) => e.doc["kind"]))).toEqual(GATEWAY_KINDS);
    for (const e of examples) {
      const head = "apiVersion: gateway.inference.dev/v1alpha1\nkind: GatewayConfig\n";
      expect(() => parseConfig(`${head}---\n${JSON.stringify(e.doc)}`, e.file), e.file).not.toThrow();
    }
  });

  test("together with the gateway config they make one pool with its objectives and rewrite", () => {
    const text = [gatewayYaml, ...examples.map((e) => JSON.stringify(e.doc))].join("\n---\n");
    const config = parseConfig(text, "deploy/");
    expect(config.pool?.metadata.name).toBe(config.settings.pool!);
    expect(config.objectives.map((o) => o.metadata.name).sort()).toEqual(["batch", "critical"]);
    expect(config.rewrites).toHaveLength(1);
  });

  test("the simulated pods are selected by the example pool, on its target port", () => {
    const pool = one("InferencePool", "vllm-pool").doc;
    const sim = one("Deployment", "vllm-sim").doc;
    const labels: Record<string, string> = sim["spec"].template.metadata.labels;
    for (const [k, v] of Object.entries(pool["spec"].selector.matchLabels as Record<string, string>))
      expect(labels[k]).toBe(v);
    const ports = (sim["spec"].template.spec.containers[0].ports as Doc[]).map((p) => p["containerPort"]);
    expect(ports).toContain(pool["spec"].targetPorts[0].number);
  });

  test("the example resources are kinds the CRDs in deploy/crds/ define (when present)", () => {
    const crds = all("CustomResourceDefinition").map((c) => c.doc);
    if (crds.length === 0) return; // deploy/crds/ is written separately; nothing to cross-check yet
    const served = new Set(
      crds.flatMap((c) =>
        (c["spec"].versions as Doc[])
          .filter((v) => v["served"])
          .map((v) => `${c["spec"].group}/${v["name"]} ${c["spec"].names.kind}`),
      ),
    );
    for (const e of examples) expect(served).toContain(`${e.doc["apiVersion"]} ${e.doc["kind"]}`);
  });
});

describe("deploy/: the gateway Deployment", () => {
  const probePort = (probe: Doc) => probe["httpGet"].port;
  const http = container["ports"][0];

  test("liveness probes /healthz and readiness probes /readyz, on the container's port", () => {
    expect(container["livenessProbe"].httpGet.path).toBe("/healthz");
    expect(container["readinessProbe"].httpGet.path).toBe("/readyz");
    for (const probe of [
      container["livenessProbe"],
      container["readinessProbe"],
      container["startupProbe"],
    ]) {
      if (!probe) continue;
      expect([http.name, http.containerPort]).toContain(probePort(probe));
    }
  });

  test("every Deployment runs as non-root", () => {
    for (const { file, doc } of all("Deployment")) {
      const spec: Doc = doc["spec"].template.spec;
      for (const c of spec["containers"] as Doc[]) {
        const runAsNonRoot = c["securityContext"]?.runAsNonRoot ?? spec["securityContext"]?.runAsNonRoot;
        const runAsUser = c["securityContext"]?.runAsUser ?? spec["securityContext"]?.runAsUser;
        expect(runAsNonRoot, `${file}: ${c["name"]}`).toBe(true);
        expect(runAsUser, `${file}: ${c["name"]}`).toBeGreaterThan(0);
        expect(c["securityContext"]?.allowPrivilegeEscalation, `${file}: ${c["name"]}`).toBe(false);
      }
    }
  });

  test("the Service selects the gateway pods and targets the container's port", () => {
    const service = one("Service", "inference-gateway").doc;
    const labels = gateway["spec"].template.metadata.labels;
    for (const [k, v] of Object.entries(service["spec"].selector as Record<string, string>))
      expect(labels[k]).toBe(v);
    expect(gateway["spec"].selector.matchLabels).toEqual(service["spec"].selector);
    const target = service["spec"].ports[0].targetPort;
    expect([http.name, http.containerPort]).toContain(target);
  });

  test("it reads the ConfigMap's gateway.yaml and runs as the RBAC service account", () => {
    const volume = (podSpec["volumes"] as Doc[]).find(
      (v) => v["configMap"]?.name === configMap["metadata"].name,
    );
    expect(volume).toBeDefined();
    const mount = (container["volumeMounts"] as Doc[]).find((m) => m["name"] === volume!["name"]);
    const args = container["args"] as string[];
    expect(args[args.indexOf("--config") + 1]).toBe(`${mount!["mountPath"]}/gateway.yaml`);
    const account = one("ServiceAccount", podSpec["serviceAccountName"]).doc;
    const binding = all("RoleBinding").find((b) =>
      (b.doc["subjects"] as Doc[]).some((s) => s["name"] === account["metadata"].name),
    );
    expect(binding).toBeDefined();
  });

  test("a preStop delay lets endpoints stop routing before SIGTERM; the grace period covers it and the drain", () => {
    const config = parseConfig(gatewayYaml);
    const sleep = Number(container["lifecycle"]?.preStop?.sleep?.seconds);
    expect(sleep).toBeGreaterThanOrEqual(3);
    expect(podSpec["terminationGracePeriodSeconds"] * 1000).toBeGreaterThan(
      sleep * 1000 + config.settings.shutdownGraceMs,
    );
  });
});

describe("the Dockerfile", () => {
  const text = readFileSync(join(ROOT, "Dockerfile"), "utf8");
  const lines = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const instr = (name: string) => lines.filter((l) => l.toUpperCase().startsWith(`${name} `));
  const finalStage = lines.slice(lines.findLastIndex((l) => /^FROM /i.test(l)));

  test("builds on the official Bun image", () => {
    for (const from of instr("FROM")) expect(from).toMatch(/^FROM oven\/bun:/);
  });

  test("runs the Bun entry as a numeric non-root user, with npm start's environment", () => {
    const user = finalStage.filter((l) => /^USER /i.test(l)).at(-1);
    const uid = Number(user?.split(/\s+/)[1]?.split(":")[0]);
    expect(uid).toBeGreaterThan(0);
    expect(podSpec["securityContext"].runAsUser).toBe(uid);
    const env = new Map((container["env"] as Doc[]).map((e) => [e["name"] as string, e["value"] as string]));
    for (const [name, value] of Object.entries(BUN_START_ENV)) {
      expect(finalStage.join("\n")).toContain(`${name}=${value}`);
      expect(env.get(name)).toBe(value);
    }
    const entry = JSON.parse(instr("ENTRYPOINT").at(-1)!.slice("ENTRYPOINT ".length)) as string[];
    expect(entry.slice(0, 2)).toEqual(["bun", "run"]);
    expect(existsSync(join(ROOT, entry[2]!))).toBe(true);
  });

  test("the HEALTHCHECK asks the port the gateway was started with, not a hard-coded one", () => {
    const check = instr("HEALTHCHECK").at(-1)!;
    expect(check).not.toMatch(/:\d{2,5}\b/);
    const cmd = JSON.parse(check.slice(check.indexOf("CMD ") + 4)) as string[];
    expect(cmd.slice(0, 2)).toEqual(["bun", "run"]);
    expect(existsSync(join(ROOT, cmd[2]!))).toBe(true);
  });

  test("exposes the container port and copies only paths that exist", () => {
    expect(instr("EXPOSE").map((l) => Number(l.split(/\s+/)[1]))).toContain(
      container["ports"][0].containerPort,
    );
    for (const copy of instr("COPY").filter((l) => !l.includes("--from="))) {
      const [, ...paths] = copy.split(/\s+/).filter((w) => !w.startsWith("--"));
      for (const src of paths.slice(0, -1)) expect(existsSync(join(ROOT, src)), src).toBe(true);
    }
  });
});
