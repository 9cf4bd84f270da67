/**
 * Where the API server is and how to authenticate: from a kubeconfig file or from the
 * in-cluster service account, in that order of preference:
 *   1. the kubeconfig path the caller names;
 *   2. in-cluster: KUBERNETES_SERVICE_HOST/PORT + the service-account token and CA;
 *   3. the first existing file of $KUBECONFIG (colon-separated; files are not merged);
 *   4. ~/.kube/config.
 * Supported kubeconfig credentials: token, tokenFile, client certificate/key (file or
 * -data), username/password. exec and auth-provider plugins are refused with an
 * actionable error, because running a plugin is out of scope for this gateway.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, isAbsolute, join } from "node:path";
import { parse as parseYaml } from "yaml";
import { ConfigError } from "../config/errors.ts";

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

export interface TlsSettings {
  /** PEM of the CA bundle that signs the API server certificate; undefined = system roots. */
  ca?: string;
  /** PEM client certificate and key (mutual TLS). */
  cert?: string;
  key?: string;
  /** false only with `insecure-skip-tls-verify: true`. */
  rejectUnauthorized: boolean;
  serverName?: string;
}

export interface ClusterConfig {
  /** Base URL without a trailing slash, e.g. `https://10.0.0.1:443`. */
  server: string;
  /** A fixed bearer token. */
  token?: string;
  /** A token file re-read periodically (projected service-account tokens rotate). */
  tokenFile?: string;
  basicAuth?: { username: string; password: string };
  tls: TlsSettings;
  /** The context's namespace, or the service account's. */
  namespace?: string;
  /** `in-cluster` or the kubeconfig path, for logs. */
  source: string;
}

export interface ResolveOptions {
  kubeconfig?: string;
  env?: Record<string, string | undefined>;
  serviceAccountDir?: string;
  home?: string;
}

/** Finds and reads the cluster configuration (see the module comment for the order). */
export async function resolveClusterConfig(opts: ResolveOptions = {}): Promise<ClusterConfig> {
  const env = opts.env ?? process.env;
  if (opts.kubeconfig) return loadKubeconfig(opts.kubeconfig);
  const saDir = opts.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  if (env["KUBERNETES_SERVICE_HOST"] && existsSync(join(saDir, "token"))) return inCluster(env, saDir);
  const candidates = (env["KUBECONFIG"] ?? "").split(":").filter(Boolean);
  candidates.push(join(opts.home ?? homedir(), ".kube", "config"));
  const file = candidates.find((f) => existsSync(f));
  if (!file) {
    throw new ConfigError({
      path: "kubernetes",
      expected:
        "a kubeconfig (set kubernetes.kubeconfig, $KUBECONFIG or ~/.kube/config) or an in-cluster service account",
    });
  }
  return loadKubeconfig(file);
}

/** The in-cluster service account: `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`. */
export async function inCluster(
  env: Record<string, string | undefined>,
  saDir: string,
): Promise<ClusterConfig> {
  const host = env["KUBERNETES_SERVICE_HOST"] ?? "";
  const port = env["KUBERNETES_SERVICE_PORT"] || "443";
  const hostPart = host.includes(":") ? `[${host}]` : host;
  const ca = await readOptional(join(saDir, "ca.crt"));
  const namespace = (await readOptional(join(saDir, "namespace")))?.trim();
  return {
    server: `https://${hostPart}:${port}`,
    tokenFile: join(saDir, "token"),
    tls: { rejectUnauthorized: true, ...(ca ? { ca } : {}) },
    ...(namespace ? { namespace } : {}),
    source: "in-cluster",
  };
}

type Named<K extends string> = { name?: unknown } & Partial<Record<K, Record<string, unknown>>>;

/** Reads the current context of a kubeconfig file. */
export async function loadKubeconfig(file: string): Promise<ClusterConfig> {
  const fail = (path: string, expected: string): never => {
    throw new ConfigError({ file, path, expected });
  };
  let doc: Record<string, unknown>;
  try {
    doc = (parseYaml(await readFile(file, "utf8")) ?? {}) as Record<string, unknown>;
  } catch (err) {
    return fail("", `a readable kubeconfig in YAML (${(err as Error).message})`);
  }
  const base = dirname(file);
  const find = <K extends string>(list: string, key: K, name: unknown): Record<string, unknown> => {
    const items = (Array.isArray(doc[list]) ? doc[list] : []) as Named<K>[];
    const hit = items.find((i) => i?.name === name)?.[key];
    return hit ?? fail(list, `an entry named ${JSON.stringify(name)} (referenced by the current context)`);
  };
  const current = doc["current-context"];
  if (typeof current !== "string" || !current) return fail("current-context", "the name of a context");
  const context = find("contexts", "context", current);
  const cluster = find("clusters", "cluster", context["cluster"]);
  const user = context["user"] === undefined ? {} : find("users", "user", context["user"]);
  const server = cluster["server"];
  if (typeof server !== "string" || !/^https?:\/\//.test(server)) {
    return fail(`clusters ${String(context["cluster"])} server`, "an http(s) URL");
  }
  if (user["exec"] || user["auth-provider"]) {
    fail(
      `users ${String(context["user"])}`,
      "a token, tokenFile or client certificate: exec and auth-provider plugins are not supported (run `kubectl create token <serviceaccount>` and put the result in `token`)",
    );
  }
  const data = (k: string) => {
    const v = cluster[`${k}-data`] ?? user[`${k}-data`];
    return typeof v === "string" ? Buffer.from(v, "base64").toString("utf8") : undefined;
  };
  const fileAt = async (v: unknown) =>
    typeof v === "string" && v ? readFile(isAbsolute(v) ? v : join(base, v), "utf8") : undefined;
  const ca = data("certificate-authority") ?? (await fileAt(cluster["certificate-authority"]));
  const cert = data("client-certificate") ?? (await fileAt(user["client-certificate"]));
  const key = data("client-key") ?? (await fileAt(user["client-key"]));
  const tokenFile = user["tokenFile"];
  const { username, password } = user as { username?: unknown; password?: unknown };
  const namespace = context["namespace"];
  const tlsServerName = cluster["tls-server-name"];
  return {
    server: server.replace(/\/+$/, ""),
    ...(typeof user["token"] === "string" ? { token: user["token"] } : {}),
    ...(typeof tokenFile === "string"
      ? { tokenFile: isAbsolute(tokenFile) ? tokenFile : join(base, tokenFile) }
      : {}),
    ...(typeof username === "string" && typeof password === "string"
      ? { basicAuth: { username, password } }
      : {}),
    tls: {
      rejectUnauthorized: cluster["insecure-skip-tls-verify"] !== true,
      ...(ca ? { ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      ...(typeof tlsServerName === "string" ? { serverName: tlsServerName } : {}),
    },
    ...(typeof namespace === "string" && namespace ? { namespace } : {}),
    source: file,
  };
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return undefined;
  }
}
