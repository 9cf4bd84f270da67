/**
 * Builders for the objects the fake API server holds, and a kubeconfig that points at it.
 * Shapes follow the real API (Pod status.conditions, CRD specs as users apply them).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubeObject } from "../../src/kubernetes/reflector.ts";

export const NS = "llm";
export const POOL = "vllm-pool";
export const X_GROUP = "inference.networking.x-k8s.io/v1alpha2";
export const LLMD_GROUP = "llm-d.ai/v1alpha2";

export interface PodSpec {
  labels?: Record<string, string>;
  ip?: string | undefined;
  ready?: boolean;
  namespace?: string;
}

export function pod(name: string, spec: PodSpec = {}): KubeObject {
  const ready = spec.ready ?? true;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: spec.namespace ?? NS, labels: spec.labels ?? { app: "vllm" } },
    spec: { containers: [{ name: "vllm", image: "vllm/vllm-openai" }] },
    status: {
      phase: "Running",
      ...(spec.ip ? { podIP: spec.ip, podIPs: [{ ip: spec.ip }] } : {}),
      conditions: [
        { type: "PodScheduled", status: "True" },
        { type: "Initialized", status: "True" },
        { type: "ContainersReady", status: ready ? "True" : "False" },
        { type: "Ready", status: ready ? "True" : "False" },
      ],
    },
  };
}

export function pool(
  matchLabels: Record<string, string> = { app: "vllm" },
  ports: number[] = [8000],
  name = POOL,
  opts: { namespace?: string; labels?: Record<string, string>; picker?: string } = {},
): KubeObject {
  return {
    apiVersion: "inference.networking.k8s.io/v1",
    kind: "InferencePool",
    metadata: { name, namespace: opts.namespace ?? NS, ...(opts.labels ? { labels: opts.labels } : {}) },
    spec: {
      selector: { matchLabels },
      targetPorts: ports.map((number) => ({ number })),
      endpointPickerRef: { name: opts.picker ?? "epp", port: { number: 9002 } },
    },
  };
}

export function objective(
  name: string,
  priority: number,
  poolName = POOL,
  group = X_GROUP,
  namespace = NS,
): KubeObject {
  return {
    apiVersion: group,
    kind: "InferenceObjective",
    metadata: { name, namespace },
    spec: { priority, poolRef: { group: "inference.networking.k8s.io", name: poolName } },
  };
}

export function rewrite(
  name: string,
  rules: { from?: string[]; to: Record<string, number | undefined> }[],
  opts: { group?: string; poolName?: string; created?: string; namespace?: string } = {},
): KubeObject {
  return {
    apiVersion: opts.group ?? X_GROUP,
    kind: "InferenceModelRewrite",
    metadata: {
      name,
      namespace: opts.namespace ?? NS,
      ...(opts.created ? { creationTimestamp: opts.created } : {}),
    },
    spec: {
      poolRef: { name: opts.poolName ?? POOL },
      rules: rules.map((r) => ({
        matches: (r.from ?? []).map((value) => ({ model: { type: "Exact", value } })),
        targets: Object.entries(r.to).map(([modelRewrite, weight]) =>
          weight === undefined ? { modelRewrite } : { modelRewrite, weight },
        ),
      })),
    },
  };
}

/** Writes a kubeconfig for `server` with `token` into a fresh temp dir; returns its path. */
export function writeKubeconfig(server: string, token: string, namespace = NS): string {
  const dir = mkdtempSync(join(tmpdir(), "kubeconfig-"));
  const file = join(dir, "config");
  writeFileSync(
    file,
    [
      "apiVersion: v1",
      "kind: Config",
      "current-context: fake",
      "clusters:",
      "  - name: fake",
      "    cluster:",
      `      server: ${server}`,
      "contexts:",
      "  - name: fake",
      "    context:",
      "      cluster: fake",
      "      user: tester",
      `      namespace: ${namespace}`,
      "users:",
      "  - name: tester",
      "    user:",
      `      token: ${token}`,
      "",
    ].join("\n"),
  );
  return file;
}
