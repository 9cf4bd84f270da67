/**
 * Pods -> endpoints. A pod serves when it is Ready (condition Ready=True), has a podIP
 * and is not terminating (no deletionTimestamp); then each `spec.targetPorts[].number`
 * of the pool is one endpoint (data-parallel ranks):
 *   name    `${podName}:${port}`   (stable across restarts of the pod's IP, unique per port);
 *           `${namespace}/${podName}:${port}` when several namespaces are watched (the gateway
 *           keeps health and in-flight counts by endpoint name, and pod names repeat across them)
 *   address `${podIP}:${port}`     (`[ip]:port` for IPv6)
 *   labels  the pod's labels
 *   engine  label `llm-d.ai/engine-type` or `inference.networking.k8s.io/engine-type`, else `vllm`
 *   models  empty: learned from the endpoint's /v1/models by the model-discovery loop.
 */
import type { InferencePool } from "../config/resources.ts";
import type { Endpoint } from "../endpoints/types.ts";
import type { KubeObject } from "./reflector.ts";

export const ENGINE_LABELS = ["llm-d.ai/engine-type", "inference.networking.k8s.io/engine-type"] as const;
export const DEFAULT_ENGINE = "vllm";

/** What discovery keeps of a pod: a few fields, not the whole object. */
export interface PodInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ip: string | undefined;
  readonly ready: boolean;
  readonly terminating: boolean;
}

interface PodShape {
  metadata?: { name?: string; labels?: Record<string, string>; deletionTimestamp?: string };
  status?: { podIP?: string; conditions?: { type?: string; status?: string }[] };
}

export function podInfo(obj: KubeObject): PodInfo | undefined {
  const pod = obj as PodShape;
  const name = pod.metadata?.name;
  if (!name) return undefined;
  const ready = (pod.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
  return {
    name,
    labels: Object.freeze(Object.fromEntries(Object.entries(pod.metadata?.labels ?? {}).sort())),
    ip: pod.status?.podIP || undefined,
    ready,
    terminating: Boolean(pod.metadata?.deletionTimestamp),
  };
}

/** matchLabels semantics: every pair present with an equal value. */
export function matches(labels: Readonly<Record<string, string>>, selector: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}

/** `a=1,b=2`, keys sorted: the `labelSelector` query value and a stable identity. */
export function labelSelector(matchLabels: Record<string, string>): string {
  return Object.keys(matchLabels)
    .sort()
    .map((k) => `${k}=${matchLabels[k]}`)
    .join(",");
}

/** The endpoints of `pool` among `pods`, ordered by pod name then port order; names start with `prefix`. */
export function poolEndpoints(
  pool: InferencePool,
  pods: Iterable<PodInfo>,
  prefix = "",
): Omit<Endpoint, "metrics">[] {
  const selector = pool.spec.selector.matchLabels;
  const serving = [...pods]
    .filter((p) => p.ready && p.ip && !p.terminating && matches(p.labels, selector))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: Omit<Endpoint, "metrics">[] = [];
  for (const pod of serving) {
    const host = pod.ip!.includes(":") ? `[${pod.ip}]` : pod.ip!;
    const engine = ENGINE_LABELS.map((l) => pod.labels[l]).find(Boolean) ?? DEFAULT_ENGINE;
    for (const { number } of pool.spec.targetPorts) {
      out.push({
        name: `${prefix}${pod.name}:${number}`,
        address: `${host}:${number}`,
        labels: pod.labels,
        engine,
        models: new Set<string>(),
      });
    }
  }
  return out;
}

/** Identity of an endpoint set, to skip notifying when nothing that matters changed. */
export function endpointsKey(endpoints: readonly Omit<Endpoint, "metrics">[]): string {
  return JSON.stringify(endpoints.map((e) => [e.name, e.address, e.engine, e.labels]));
}
