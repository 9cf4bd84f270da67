import { ConfigError } from "../config/errors.ts";
import type {
  AIServiceBackend,
  BackendSecurityPolicy,
  BackendTLSPolicy,
  EgBackend,
  KeyValueDoc,
} from "./schema.ts";
import type { Credential, HostedBackend, KeySource } from "./types.ts";

/** Gateway extension annotations on a pasted Secret: the key comes from the environment or a file, not the document. */
export const KEY_ENV_ANNOTATION = "gateway.inference.dev/api-key-env";
export const KEY_FILE_ANNOTATION = "gateway.inference.dev/api-key-file";

/** The documents an AIServiceBackend is resolved against. */
export interface Resources {
  services: Map<string, AIServiceBackend>;
  policies: BackendSecurityPolicy[];
  backends: Map<string, EgBackend>;
  tls: BackendTLSPolicy[];
  /** `Secret/<name>` and `ConfigMap/<name>`. */
  values: Map<string, KeyValueDoc>;
  /** Kubernetes discovery is on: a Secret not in the file is read from the cluster. */
  discovery: boolean;
}

const WHY_NOT: Record<string, string> = {
  AWSBedrock: "it needs SigV4 signing and request translation",
  GCPVertexAI: "it needs Google credentials and request translation",
  GCPAnthropic: "it needs Google credentials and the Anthropic translation",
  AWSAnthropic: "it needs SigV4 signing and the Anthropic translation",
  Anthropic:
    "it needs chat-completions ↔ Messages translation (this gateway forwards /v1/messages to pods as they are; see docs/aigw.md)",
  Cohere: "it needs request translation",
};

/**
 * Policy fields this gateway cannot honour, refused whether or not a rule uses the policy:
 * a key for an InferencePool's pods (pods get the client's Authorization per
 * `upstream.forwardAuthorization`, never a policy's key) and a per-request credentialOverride.
 */
export function checkPolicies(policies: readonly BackendSecurityPolicy[]): void {
  for (const p of policies) {
    const where = `BackendSecurityPolicy/${p.metadata.name} spec`;
    if ((p.spec as Record<string, unknown>)["credentialOverride"] !== undefined)
      throw new ConfigError({
        path: `${where}.credentialOverride`,
        expected:
          "no credentialOverride: a hosted backend always gets the policy's own key, never one taken from the request; remove the field",
      });
    const pool = (p.spec.targetRefs ?? []).find((r) => r.kind === "InferencePool");
    if (pool)
      throw new ConfigError({
        path: `${where}.targetRefs`,
        expected: `AIServiceBackends only: a key for the InferencePool '${pool.name}' is not supported (pods get the client's Authorization when upstream.forwardAuthorization is on); remove the reference`,
      });
  }
}

/** Resolves the AIServiceBackend `name` to an origin, TLS trust and credential. */
export function hostedBackend(name: string, res: Resources, path: string): HostedBackend {
  const svc = res.services.get(name);
  if (!svc)
    throw new ConfigError({
      path: `${path}.name`,
      expected: `an AIServiceBackend named '${name}' in the file (or group: inference.networking.k8s.io, kind: InferencePool for a pool)`,
    });
  const where = `AIServiceBackend/${name}`;
  const schema = svc.spec.schema.name;
  if (schema !== "OpenAI" && schema !== "AzureOpenAI")
    throw new ConfigError({
      path: `${where} spec.schema.name`,
      expected: `OpenAI or AzureOpenAI: ${schema} is not supported${WHY_NOT[schema] ? ` (${WHY_NOT[schema]})` : ""}`,
      received: JSON.stringify(schema),
    });
  if (
    svc.spec.headerMutation !== undefined ||
    svc.spec.bodyMutation !== undefined ||
    svc.spec.responseBodyMutation !== undefined
  )
    throw new ConfigError({
      path: `${where} spec`,
      expected:
        "no headerMutation, bodyMutation or responseBodyMutation: this gateway does not rewrite them; remove the fields",
    });
  const ref = svc.spec.backendRef;
  if ((ref.kind ?? "Backend") !== "Backend")
    throw new ConfigError({
      path: `${where} spec.backendRef`,
      expected: "a Backend (gateway.envoyproxy.io) with fqdn or ip endpoints, as Envoy AI Gateway requires",
      received: ref.kind,
    });
  const eg = res.backends.get(ref.name);
  if (!eg)
    throw new ConfigError({
      path: `${where} spec.backendRef.name`,
      expected: `a Backend document named '${ref.name}' in the file`,
    });
  const ep = eg.spec.endpoints[0]!;
  const host = ep.fqdn?.hostname ?? ep.ip?.address;
  const port = ep.fqdn?.port ?? ep.ip?.port;
  if (!host || !port)
    throw new ConfigError({
      path: `Backend/${ref.name} spec.endpoints[0]`,
      expected: "an fqdn {hostname, port} or ip {address, port}",
    });
  const tls = res.tls.find((t) =>
    t.spec.targetRefs.some((r) => r.name === ref.name && (r.kind ?? "Backend") === "Backend"),
  );
  // Envoy speaks TLS to a Backend a BackendTLSPolicy targets; port 443 without one is surely meant to be HTTPS too.
  const https = tls !== undefined || port === 443;
  const hostPart = host.includes(":") ? `[${host}]` : host;
  return Object.freeze({
    name,
    schema,
    // OpenAI: `prefix` is the path prefix; `version` stands for it only without one (upstream's
    // deprecated v1alpha1 spelling, which its provider table still shows). Azure: the api-version.
    version:
      schema === "OpenAI" ? (svc.spec.schema.prefix ?? svc.spec.schema.version) : svc.spec.schema.version,
    origin: `${https ? "https" : "http"}://${hostPart}:${port}`,
    ca: tls ? caOf(tls, res) : undefined,
    credential: credentialOf(name, svc, res),
  });
}

function caOf(tls: BackendTLSPolicy, res: Resources): string | undefined {
  const refs = tls.spec.validation.caCertificateRefs ?? [];
  if (refs.length === 0) return undefined; // wellKnownCACertificates: System
  const where = `BackendTLSPolicy/${tls.metadata.name} spec.validation.caCertificateRefs`;
  return refs
    .map((r) => {
      const kind = r.kind ?? "ConfigMap";
      const doc = res.values.get(`${kind}/${r.name}`);
      const pem = doc && entryOf(doc, "ca.crt");
      if (!pem)
        throw new ConfigError({
          path: where,
          expected: `a ${kind} named '${r.name}' in the file with a ca.crt entry (PEM)`,
        });
      return pem;
    })
    .join("\n");
}

/** A Secret's or ConfigMap's entry: `stringData`, else `data` (base64 in a Secret). */
function entryOf(doc: KeyValueDoc, key: string): string | undefined {
  const s = doc.stringData?.[key];
  if (s !== undefined) return s;
  const d = doc.data?.[key];
  if (d === undefined) return undefined;
  if (doc.kind !== "Secret") return d;
  let raw: string;
  try {
    raw = atob(d.replace(/\s+/g, ""));
  } catch {
    throw new ConfigError({
      path: `Secret/${doc.metadata.name} data.${key}`,
      expected: "base64, as a Secret's data is (or put the plain value under stringData)",
    });
  }
  return new TextDecoder().decode(Uint8Array.from(raw, (ch) => ch.charCodeAt(0)));
}

function credentialOf(name: string, svc: AIServiceBackend, res: Resources): Credential | undefined {
  const byRef = svc.spec.backendSecurityPolicyRef?.name;
  const policies = res.policies.filter(
    (p) =>
      p.metadata.name === byRef ||
      (p.spec.targetRefs ?? []).some(
        (r) => r.name === name && (r.kind ?? "AIServiceBackend") === "AIServiceBackend",
      ),
  );
  if (policies.length > 1)
    throw new ConfigError({
      path: `AIServiceBackend/${name}`,
      expected: "at most one BackendSecurityPolicy targeting it (as Envoy AI Gateway)",
      received: policies.map((p) => p.metadata.name).join(", "),
    });
  const p = policies[0];
  if (!p) return undefined;
  const where = `BackendSecurityPolicy/${p.metadata.name}`;
  const spec = p.spec;
  const [header, prefix, ref] =
    spec.type === "APIKey"
      ? (["authorization", "Bearer ", spec.apiKey?.secretRef] as const)
      : spec.type === "AzureAPIKey"
        ? (["api-key", "", spec.azureAPIKey?.secretRef] as const)
        : [undefined, "", undefined];
  if (!header)
    throw new ConfigError({
      path: `${where} spec.type`,
      expected: `APIKey or AzureAPIKey: ${spec.type} is not supported (it needs a cloud identity exchange this gateway does not do)`,
      received: JSON.stringify(spec.type),
    });
  if (!ref)
    throw new ConfigError({
      path: `${where} spec`,
      expected: `${spec.type === "APIKey" ? "apiKey" : "azureAPIKey"}.secretRef`,
    });
  const namespace = (ref as { namespace?: string }).namespace ?? p.metadata.namespace;
  return { header, prefix, source: keySource(ref.name, namespace, res, where), from: where };
}

function keySource(secret: string, namespace: string | undefined, res: Resources, where: string): KeySource {
  const doc = res.values.get(`Secret/${secret}`);
  if (!doc && res.discovery) return { kind: "secret", namespace, name: secret };
  if (!doc)
    throw new ConfigError({
      path: `${where} secretRef`,
      expected: `a Secret named '${secret}' in the file: paste it with stringData.apiKey, or annotate it ${KEY_ENV_ANNOTATION}: <ENV VARIABLE> or ${KEY_FILE_ANNOTATION}: <path> (with Kubernetes discovery on, the cluster's Secret is read instead)`,
    });
  const a = doc.metadata.annotations ?? {};
  const env = a[KEY_ENV_ANNOTATION];
  if (env) return { kind: "env", name: env };
  const file = a[KEY_FILE_ANNOTATION];
  if (file) return { kind: "file", path: file };
  const value = entryOf(doc, "apiKey");
  if (!value)
    throw new ConfigError({
      path: `Secret/${secret}`,
      expected: `an apiKey entry (stringData or data), or a ${KEY_ENV_ANNOTATION} / ${KEY_FILE_ANNOTATION} annotation`,
    });
  return { kind: "value", value: value.trim() };
}
