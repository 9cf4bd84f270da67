import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A CA the test creates and a loopback server certificate it signs (openssl). */
export interface TestPki {
  ca: string;
  key: string;
  cert: string;
}

export function makePki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "aigw-pki-"));
  const p = (f: string) => join(dir, f);
  const ssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  try {
    ssl(
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      p("ca.key"),
      "-out",
      p("ca.crt"),
      "-days",
      "2",
      "-subj",
      "/CN=aigw test CA",
    );
    ssl(
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      p("srv.key"),
      "-out",
      p("srv.csr"),
      "-subj",
      "/CN=localhost",
    );
    writeFileSync(p("ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    ssl(
      "x509",
      "-req",
      "-in",
      p("srv.csr"),
      "-CA",
      p("ca.crt"),
      "-CAkey",
      p("ca.key"),
      "-CAcreateserial",
      "-out",
      p("srv.crt"),
      "-days",
      "2",
      "-extfile",
      p("ext"),
    );
    return {
      ca: readFileSync(p("ca.crt"), "utf8"),
      key: readFileSync(p("srv.key"), "utf8"),
      cert: readFileSync(p("srv.crt"), "utf8"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What reached the fake provider. */
export interface Seen {
  path: string;
  authorization: string | null;
  apiKey: string | null;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/**
 * A hosted OpenAI-compatible provider on loopback HTTPS: it requires its own API key
 * (401 otherwise), counts and records every request, answers chat completions (JSON or SSE,
 * with usage) naming the model it was asked for. `failWith` makes it answer that status.
 */
export function startProvider(
  pki: TestPki,
  opts: { key: string; name: string; header?: "authorization" | "api-key" },
) {
  const seen: Seen[] = [];
  const state = { failWith: 0, holding: false };
  // While `holding`, answers wait here until `release()`: a slow provider without real sleeps.
  let held: (() => void)[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    tls: { key: pki.key, cert: pki.cert },
    async fetch(req) {
      const url = new URL(req.url);
      const body = (await req.json().catch(() => ({}))) as Record<string, unknown>;
      const headers: Record<string, string> = {};
      req.headers.forEach((v, k) => {
        headers[k] = v;
      });
      seen.push({
        path: url.pathname + url.search,
        authorization: req.headers.get("authorization"),
        apiKey: req.headers.get("x-api-key"),
        headers,
        body,
      });
      const given = opts.header === "api-key" ? req.headers.get("api-key") : req.headers.get("authorization");
      const want = opts.header === "api-key" ? opts.key : `Bearer ${opts.key}`;
      if (given !== want)
        return Response.json(
          {
            error: {
              message: "Incorrect API key provided",
              type: "invalid_request_error",
              code: "invalid_api_key",
            },
          },
          { status: 401 },
        );
      if (state.holding) await new Promise<void>((resolve) => held.push(resolve));
      if (state.failWith)
        return Response.json(
          { error: { message: "overloaded", type: "server_error" } },
          { status: state.failWith },
        );
      const model = String(body["model"] ?? "deployment");
      const usage = { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 };
      if (body["stream"]) {
        const chunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
          `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", model, choices: [{ index: 0, delta, finish_reason: null }], ...extra })}\n\n`;
        const so = body["stream_options"] as { include_usage?: boolean } | undefined;
        const text =
          chunk({ role: "assistant", content: `from ${opts.name}` }) +
          (so?.include_usage
            ? `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", model, choices: [], usage })}\n\n`
            : "") +
          "data: [DONE]\n\n";
        return new Response(text, { headers: { "content-type": "text/event-stream" } });
      }
      return Response.json({
        id: "chatcmpl-1",
        object: "chat.completion",
        created: 1,
        model,
        choices: [
          { index: 0, message: { role: "assistant", content: `from ${opts.name}` }, finish_reason: "stop" },
        ],
        usage,
      });
    },
  });
  return {
    seen,
    state,
    /** Lets every held answer go (and stops holding new ones). */
    release() {
      state.holding = false;
      for (const go of held) go();
      held = [];
    },
    port: server.port as number,
    stop: () => server.stop(true),
  };
}

/** The Envoy AI Gateway documents for one hosted backend at `127.0.0.1:port` with the test CA. */
export function hostedDocs(o: {
  name: string;
  port: number;
  ca: string;
  key: string;
  schema?: string;
  version?: string;
  azure?: boolean;
}): string[] {
  const ca = o.ca
    .trim()
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
  return [
    `apiVersion: aigateway.envoyproxy.io/v1beta1
kind: AIServiceBackend
metadata: { name: ${o.name}, namespace: default }
spec:
  schema: { name: ${o.schema ?? "OpenAI"}${o.version ? `, version: "${o.version}"` : ""} }
  backendRef: { name: ${o.name}-backend, kind: Backend, group: gateway.envoyproxy.io }`,
    `apiVersion: aigateway.envoyproxy.io/v1beta1
kind: BackendSecurityPolicy
metadata: { name: ${o.name}-apikey }
spec:
  targetRefs: [{ group: aigateway.envoyproxy.io, kind: AIServiceBackend, name: ${o.name} }]
  type: ${o.azure ? "AzureAPIKey" : "APIKey"}
  ${o.azure ? "azureAPIKey" : "apiKey"}: { secretRef: { name: ${o.name}-secret, namespace: default } }`,
    `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: { name: ${o.name}-backend }
spec:
  endpoints: [{ ip: { address: 127.0.0.1, port: ${o.port} } }]`,
    `apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: { name: ${o.name}-tls }
spec:
  targetRefs: [{ group: gateway.envoyproxy.io, kind: Backend, name: ${o.name}-backend }]
  validation:
    caCertificateRefs: [{ name: ${o.name}-ca, group: "", kind: ConfigMap }]
    hostname: localhost`,
    `apiVersion: v1
kind: ConfigMap
metadata: { name: ${o.name}-ca }
data:
  ca.crt: |
${ca}`,
    `apiVersion: v1
kind: Secret
metadata: { name: ${o.name}-secret }
type: Opaque
stringData: { apiKey: ${o.key} }`,
  ];
}

/** One sample's value from a /metrics text (undefined when absent). */
export function metric(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
