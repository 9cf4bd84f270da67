import type { Settings } from "../config/settings.ts";

/** Reads a Secret's entries (decoded) from the cluster. */
export type SecretReader = (namespace: string | undefined, name: string) => Promise<Record<string, string>>;

/** Computed, so the Workers bundle (no Kubernetes there) never pulls the client and its node: imports in. */
const KUBERNETES = ["..", "kubernetes", "index.ts"].join("/");

/**
 * With Kubernetes discovery on, a BackendSecurityPolicy's Secret that the file does not hold
 * is read from the cluster, with the same kubeconfig or service account discovery uses:
 * `GET /api/v1/namespaces/<ns>/secrets/<name>` (the gateway's Role needs `get` on that
 * Secret). The namespace is the reference's, else the policy's, else discovery's.
 */
export function clusterSecretReader(settings: () => Settings["kubernetes"]): SecretReader {
  let client: Promise<{ get: (path: string) => Promise<Response>; namespace: string }> | undefined;
  return async (ns, name) => {
    client ??= (async () => {
      const k: typeof import("../kubernetes/index.ts") = await import(KUBERNETES);
      const s = settings();
      const cluster = await k.resolveClusterConfig(s?.kubeconfig ? { kubeconfig: s.kubeconfig } : {});
      const api = k.createApiClient(cluster);
      return {
        get: (path: string) => api.get(path, {}, AbortSignal.timeout(10_000)),
        namespace: s?.namespace ?? cluster.namespace ?? "default",
      };
    })();
    const c = await client.catch((err) => {
      client = undefined;
      throw err;
    });
    const namespace = ns ?? c.namespace;
    const res = await c.get(
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`,
    );
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      const rbac = res.status === 403 ? ": the gateway's service account needs get on secrets there" : "";
      throw new Error(`the API server answered ${res.status} for Secret ${namespace}/${name}${rbac}`);
    }
    const data = ((await res.json()) as { data?: Record<string, string> }).data ?? {};
    const out: Record<string, string> = {};
    for (const [key, b64] of Object.entries(data))
      out[key] = new TextDecoder().decode(Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0)));
    return out;
  };
}
