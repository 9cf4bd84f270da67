/**
 * The compiled form of a file's Envoy AI Gateway documents: what the request path reads.
 * Built once per config load (build.ts), immutable, swapped whole on reload.
 */

/** Where an API key comes from. Read when a request needs it, never logged. */
export type KeySource =
  | { readonly kind: "value"; readonly value: string }
  | { readonly kind: "env"; readonly name: string }
  | { readonly kind: "file"; readonly path: string }
  /** With Kubernetes discovery: the Secret in the cluster (its `apiKey` entry), read through the API. */
  | { readonly kind: "secret"; readonly namespace: string | undefined; readonly name: string };

/** The credential a hosted backend gets instead of anything the client sent. */
export interface Credential {
  /** `authorization` (APIKey: `Bearer <key>`) or `api-key` (AzureAPIKey). */
  readonly header: "authorization" | "api-key";
  readonly prefix: string;
  readonly source: KeySource;
  /** `BackendSecurityPolicy/<name>`, for error messages. */
  readonly from: string;
}

/** An AIServiceBackend resolved to an address: a hosted provider or another OpenAI-compatible server. */
export interface HostedBackend {
  readonly name: string;
  readonly schema: "OpenAI" | "AzureOpenAI";
  /** OpenAI: path prefix (`v1`); AzureOpenAI: api-version. */
  readonly version: string | undefined;
  /** `https://host:port` or `http://host:port`. */
  readonly origin: string;
  /** PEM CA bundle from a BackendTLSPolicy's caCertificateRefs; undefined: the system's CAs. */
  readonly ca: string | undefined;
  readonly credential: Credential | undefined;
}

/** One backendRef of a rule, resolved. */
export interface RuleBackend {
  /** The AIServiceBackend's or InferencePool's name (what the client-chosen backend header names). */
  readonly name: string;
  readonly target:
    | { readonly kind: "pool"; readonly pool: string }
    | { readonly kind: "hosted"; readonly backend: HostedBackend };
  readonly weight: number;
  /** 0 first; higher numbers are fallbacks (and spill targets behind a pool). */
  readonly priority: number;
  readonly modelNameOverride: string | undefined;
}

export interface HeaderTest {
  /** Lower-cased header name; `x-ai-eg-model` is the body's model. */
  readonly name: string;
  readonly test: (value: string) => boolean;
}

/** One rule of one AIGatewayRoute. */
export interface CompiledRule {
  /** `AIGatewayRoute/<name> rules[<i>]`, for logs and errors. */
  readonly id: string;
  readonly hostnames: readonly string[];
  /** Any one match (OR) whose headers all pass (AND); none: every request. */
  readonly matches: readonly (readonly HeaderTest[])[];
  readonly backends: readonly RuleBackend[];
  readonly requestTimeoutMs: number | undefined;
  readonly backendRequestTimeoutMs: number | undefined;
  readonly streamIdleTimeoutMs: number | undefined;
  /** Models this rule lists in /v1/models (its Exact `x-ai-eg-model` values). */
  readonly models: readonly string[];
  readonly ownedBy: string;
  /** Unix seconds. */
  readonly created: number;
  /** Pool first, then spill: how long flow control may hold the request before it spills. */
  readonly spillAfterMs: number;
  /** Requests below this priority (InferenceObjective) never spill: they queue or are shed. */
  readonly spillMinPriority: number;
}

export interface AigwConfig {
  /** In route precedence order: the oldest route first (creationTimestamp, then namespace/name), its rules in order. matchRule ranks matches by host and header count before that. */
  readonly rules: readonly CompiledRule[];
  readonly backends: ReadonlyMap<string, HostedBackend>;
}
