/** Builders for rewrite tests: the user-guide YAML and compact typed documents. */
import type { InferenceModelRewrite } from "../../src/rewrite/index.ts";

export const USER_GUIDE_YAML = (apiVersion: string) => `
apiVersion: ${apiVersion}
kind: InferenceModelRewrite
metadata:
  name: opt-canary
  namespace: default
  creationTimestamp: "2025-01-01T00:00:00Z"
  labels: { app: vllm }
  annotations: { note: ignored }
spec:
  poolRef:
    group: inference.networking.k8s.io
    kind: InferencePool
    name: vllm-pool
  rules:
    - matches:
        - model: { type: Exact, value: opt-stable }
      targets:
        - modelRewrite: facebook/opt-125m
          weight: 90
        - modelRewrite: facebook/opt-125m-canary
          weight: 10
status:
  conditions: []
`;

export interface RuleSpec {
  /** Exact model names; omit or [] for a generic rule. */
  match?: string[];
  /** [model, weight?] pairs. */
  to: [string, number?][];
}

/** A typed, already-defaulted document, as parseRewrite would return it. */
export function doc(
  name: string,
  rules: RuleSpec[],
  meta: { namespace?: string; created?: string } = {},
): InferenceModelRewrite {
  return {
    apiVersion: "inference.networking.x-k8s.io/v1alpha2",
    kind: "InferenceModelRewrite",
    metadata: {
      name,
      namespace: meta.namespace ?? "default",
      ...(meta.created !== undefined ? { creationTimestamp: meta.created } : {}),
    },
    spec: {
      poolRef: { group: "inference.networking.k8s.io", kind: "InferencePool", name: "pool" },
      rules: rules.map((r) => ({
        matches: (r.match ?? []).map((value) => ({ model: { type: "Exact" as const, value } })),
        targets: r.to.map(([modelRewrite, weight]) =>
          weight === undefined ? { modelRewrite } : { modelRewrite, weight },
        ),
      })),
    },
  };
}

/** The same document as plain YAML-shaped data, for parseRewrite error tests. */
export function raw(overrides: { spec?: unknown; metadata?: unknown; [k: string]: unknown } = {}): unknown {
  return {
    apiVersion: "llm-d.ai/v1alpha2",
    kind: "InferenceModelRewrite",
    metadata: { name: "opt-canary" },
    spec: {
      poolRef: { name: "vllm-pool" },
      rules: [
        { matches: [{ model: { value: "opt-stable" } }], targets: [{ modelRewrite: "facebook/opt-125m" }] },
      ],
    },
    ...overrides,
  };
}

/** A Random that replays fixed values (and counts calls). */
export function scripted(...values: number[]): (() => number) & { calls: number } {
  let i = 0;
  const f = Object.assign(
    () => {
      f.calls++;
      return values[i++ % values.length] ?? 0;
    },
    { calls: 0 },
  );
  return f;
}
