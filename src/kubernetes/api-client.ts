/**
 * A minimal authenticated GET client for the Kubernetes API: bearer token (fixed, or
 * re-read from a rotating token file), basic auth, and TLS with the kubeconfig's CA and
 * client certificate. Plain `http://` servers are allowed (tests, `kubectl proxy`).
 *
 * Runtime specifics stay here: Bun's fetch takes a `tls` option; Node's global fetch
 * cannot take a CA without undici's Agent, so on Node https goes through `node:https`
 * and is wrapped in a web `Response` so the watch code sees one interface.
 */
import { readFile } from "node:fs/promises";
import type { ClusterConfig, TlsSettings } from "./cluster-config.ts";

/** The slice of `fetch` the client needs; injectable in tests. */
export type FetchLike = (
  url: string,
  init: { headers: Record<string, string>; signal: AbortSignal },
) => Promise<Response>;

export interface ApiClient {
  readonly server: string;
  /** GET `path?query`; resolves on response headers, the body streams. Rejects on network errors. */
  get(path: string, query: Record<string, string>, signal: AbortSignal): Promise<Response>;
}

export interface ApiClientOptions {
  fetch?: FetchLike;
  /** How long a token read from `tokenFile` is reused, ms (client-go: 1 minute). */
  tokenTtlMs?: number;
  now?: () => number;
}

export function createApiClient(cluster: ClusterConfig, opts: ApiClientOptions = {}): ApiClient {
  const doFetch = opts.fetch ?? defaultFetch(cluster);
  const now = opts.now ?? Date.now;
  const ttl = opts.tokenTtlMs ?? 60_000;
  let cached: { token: string; at: number } | undefined;

  async function authorization(): Promise<string | undefined> {
    if (cluster.tokenFile) {
      if (!cached || now() - cached.at > ttl) {
        cached = { token: (await readFile(cluster.tokenFile, "utf8")).trim(), at: now() };
      }
      return `Bearer ${cached.token}`;
    }
    if (cluster.token) return `Bearer ${cluster.token}`;
    if (cluster.basicAuth) {
      const { username, password } = cluster.basicAuth;
      return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
    }
    return undefined;
  }

  return {
    server: cluster.server,
    async get(path, query, signal) {
      const qs = new URLSearchParams(query).toString();
      const headers: Record<string, string> = {
        accept: "application/json",
        "user-agent": "inference-gateway/kubernetes-discovery",
      };
      const auth = await authorization();
      if (auth) headers["authorization"] = auth;
      return doFetch(`${cluster.server}${path}${qs ? `?${qs}` : ""}`, { headers, signal });
    },
  };
}

function defaultFetch(cluster: ClusterConfig): FetchLike {
  if (cluster.server.startsWith("http://")) return (url, init) => fetch(url, init);
  if (typeof Bun !== "undefined") return bunTlsFetch(cluster.tls);
  return nodeTlsFetch(cluster.tls);
}

/** Bun: fetch with its `tls` request option. */
export function bunTlsFetch(tls: TlsSettings): FetchLike {
  const options = {
    rejectUnauthorized: tls.rejectUnauthorized,
    ...(tls.ca ? { ca: tls.ca } : {}),
    ...(tls.cert ? { cert: tls.cert } : {}),
    ...(tls.key ? { key: tls.key } : {}),
    ...(tls.serverName ? { serverName: tls.serverName } : {}),
  };
  return (url, init) => fetch(url, { ...init, tls: options });
}

/** Node: `node:https` with the CA and client certificate, answered as a web Response. */
export function nodeTlsFetch(tls: TlsSettings): FetchLike {
  return async (url, init) => {
    const https = await import("node:https");
    const { Readable } = await import("node:stream");
    return new Promise<Response>((resolve, reject) => {
      const req = https.request(
        url,
        {
          method: "GET",
          headers: init.headers,
          signal: init.signal,
          rejectUnauthorized: tls.rejectUnauthorized,
          ...(tls.ca ? { ca: tls.ca } : {}),
          ...(tls.cert ? { cert: tls.cert } : {}),
          ...(tls.key ? { key: tls.key } : {}),
          ...(tls.serverName ? { servername: tls.serverName } : {}),
        },
        (res) => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (typeof v === "string") headers.set(k, v);
            else if (Array.isArray(v)) for (const x of v) headers.append(k, x);
          }
          const body = Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>;
          resolve(new Response(body, { status: res.statusCode ?? 500, headers }));
        },
      );
      req.on("error", reject);
      req.end();
    });
  };
}
