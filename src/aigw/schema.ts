/**
 * Envoy AI Gateway's documents as they are written (`aigateway.envoyproxy.io` v1beta1, and
 * v1alpha1 where it differs), with the Envoy Gateway and Kubernetes documents its examples
 * paste beside them (Backend, BackendTLSPolicy, Secret, ConfigMap). Fields this gateway
 * cannot honour are listed in `REFUSED` and refused by `refuseUnsupported` with the reason;
 * fields that only configure Envoy itself (parentRefs, filterConfig) load and are ignored.
 */
import * as v from "valibot";

const Name = v.pipe(v.string(), v.minLength(1));
const Meta = v.looseObject({
  name: Name,
  namespace: v.optional(v.string()),
  creationTimestamp: v.optional(v.string()),
  annotations: v.optional(v.record(v.string(), v.string())),
});
const AnyList = v.optional(v.array(v.unknown()));

const HeaderMatch = v.strictObject({
  type: v.optional(v.picklist(["Exact", "RegularExpression"]), "Exact"),
  name: Name,
  value: v.string(),
});

const BackendRef = v.strictObject({
  name: Name,
  namespace: v.optional(v.string()),
  group: v.optional(v.string()),
  kind: v.optional(v.string()),
  modelNameOverride: v.optional(v.string()),
  weight: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 1),
  priority: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 0),
  headerMutation: v.optional(v.unknown()),
  bodyMutation: v.optional(v.unknown()),
});
export type BackendRefDoc = v.InferOutput<typeof BackendRef>;

/** Gateway API duration: `1h`, `30s`, `500ms`, `1m30s`. */
const Duration = v.pipe(
  v.string(),
  v.regex(/^([0-9]{1,5}(h|m|s|ms)){1,4}$/, "a duration such as 30s, 500ms or 1m30s"),
);

const Rule = v.strictObject({
  matches: v.optional(v.array(v.strictObject({ headers: v.optional(v.array(HeaderMatch), []) })), []),
  backendRefs: v.optional(v.array(BackendRef), []),
  timeouts: v.optional(
    v.strictObject({ request: v.optional(Duration), backendRequest: v.optional(Duration) }),
  ),
  streamIdleTimeout: v.optional(Duration),
  modelsOwnedBy: v.optional(v.string()),
  modelsCreatedAt: v.optional(v.string()),
});
export type RuleDoc = v.InferOutput<typeof Rule>;

export const AIGatewayRouteSchema = v.object({
  apiVersion: v.picklist(["aigateway.envoyproxy.io/v1beta1", "aigateway.envoyproxy.io/v1alpha1"]),
  kind: v.literal("AIGatewayRoute"),
  metadata: Meta,
  spec: v.strictObject({
    parentRefs: AnyList,
    /** v1alpha1 before parentRefs. */
    targetRefs: AnyList,
    /** v1alpha1: the input schema, OpenAI only. */
    schema: v.optional(v.strictObject({ name: v.literal("OpenAI"), version: v.optional(v.string()) })),
    hostnames: v.optional(v.array(v.string())),
    rules: v.array(Rule),
    filterConfig: v.optional(v.unknown()),
    llmRequestCosts: AnyList,
    rateLimitsFromHeaders: AnyList,
  }),
});
export type AIGatewayRoute = v.InferOutput<typeof AIGatewayRouteSchema>;

const ObjectRef = v.looseObject({ name: Name, kind: v.optional(v.string()), group: v.optional(v.string()) });

export const AIServiceBackendSchema = v.object({
  apiVersion: v.picklist(["aigateway.envoyproxy.io/v1beta1", "aigateway.envoyproxy.io/v1alpha1"]),
  kind: v.literal("AIServiceBackend"),
  metadata: Meta,
  spec: v.strictObject({
    schema: v.strictObject({
      name: v.string(),
      /** OpenAI: the path prefix (default `v1`); AzureOpenAI: the api-version. */
      version: v.optional(v.string()),
      prefix: v.optional(v.string()),
      capabilities: v.optional(v.unknown()),
    }),
    backendRef: ObjectRef,
    /** v1alpha1: the policy named from the backend instead of the policy's targetRefs. */
    backendSecurityPolicyRef: v.optional(ObjectRef),
    headerMutation: v.optional(v.unknown()),
    bodyMutation: v.optional(v.unknown()),
    responseBodyMutation: v.optional(v.unknown()),
    timeouts: v.optional(v.unknown()),
  }),
});
export type AIServiceBackend = v.InferOutput<typeof AIServiceBackendSchema>;

const SecretRef = v.looseObject({ name: Name, namespace: v.optional(v.string()) });

export const BackendSecurityPolicySchema = v.object({
  apiVersion: v.picklist(["aigateway.envoyproxy.io/v1beta1", "aigateway.envoyproxy.io/v1alpha1"]),
  kind: v.literal("BackendSecurityPolicy"),
  metadata: Meta,
  spec: v.looseObject({
    targetRefs: v.optional(v.array(ObjectRef)),
    type: v.string(),
    apiKey: v.optional(v.looseObject({ secretRef: SecretRef })),
    azureAPIKey: v.optional(v.looseObject({ secretRef: SecretRef })),
    anthropicAPIKey: v.optional(v.looseObject({ secretRef: SecretRef })),
  }),
});
export type BackendSecurityPolicy = v.InferOutput<typeof BackendSecurityPolicySchema>;

const Port = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535));

export const EgBackendSchema = v.object({
  apiVersion: v.string(),
  kind: v.literal("Backend"),
  metadata: Meta,
  spec: v.looseObject({
    endpoints: v.pipe(
      v.array(
        v.strictObject({
          fqdn: v.optional(v.strictObject({ hostname: Name, port: Port })),
          ip: v.optional(v.strictObject({ address: Name, port: Port })),
        }),
      ),
      v.minLength(1),
    ),
  }),
});
export type EgBackend = v.InferOutput<typeof EgBackendSchema>;

export const BackendTLSPolicySchema = v.object({
  apiVersion: v.string(),
  kind: v.literal("BackendTLSPolicy"),
  metadata: Meta,
  spec: v.looseObject({
    targetRefs: v.array(ObjectRef),
    validation: v.looseObject({
      wellKnownCACertificates: v.optional(v.literal("System")),
      caCertificateRefs: v.optional(v.array(ObjectRef)),
      hostname: v.optional(v.string()),
    }),
  }),
});
export type BackendTLSPolicy = v.InferOutput<typeof BackendTLSPolicySchema>;

/** A Kubernetes Secret or ConfigMap pasted into the file: `stringData`/`data` (base64 in a Secret's `data`). */
export const KeyValueDocSchema = v.object({
  apiVersion: v.literal("v1"),
  kind: v.picklist(["Secret", "ConfigMap"]),
  metadata: Meta,
  type: v.optional(v.string()),
  data: v.optional(v.record(v.string(), v.string())),
  stringData: v.optional(v.record(v.string(), v.string())),
});
export type KeyValueDoc = v.InferOutput<typeof KeyValueDocSchema>;

/**
 * The Gateway API's GatewayClass and Gateway, which upstream's examples paste beside their
 * routes (examples/inference-pool/aigwroute.yaml): this gateway is the Gateway, so they are
 * read for their shape and nothing else.
 */
export const GatewayApiDocSchema = v.object({
  apiVersion: v.pipe(v.string(), v.startsWith("gateway.networking.k8s.io/")),
  kind: v.picklist(["GatewayClass", "Gateway"]),
  metadata: Meta,
  spec: v.optional(v.unknown()),
});

/** Kinds that only accompany routes: alone in a file they are not gateway documents. */
export const COMPANION_KINDS: ReadonlySet<string> = new Set([
  "Secret",
  "ConfigMap",
  "GatewayClass",
  "Gateway",
]);

/** The kinds this module reads, for the loader's KINDS list. */
export const AIGW_KINDS = [
  "AIGatewayRoute",
  "AIServiceBackend",
  "BackendSecurityPolicy",
  "Backend",
  "BackendTLSPolicy",
  "Secret",
  "ConfigMap",
  "GatewayClass",
  "Gateway",
] as const;
