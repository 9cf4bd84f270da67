import * as v from "valibot";
import { EngineMappingsSchema } from "../datalayer/engine-schema.ts";

/**
 * The gateway's own settings document (`kind: GatewayConfig`). It sits in the same
 * YAML file as the Kubernetes resources users already apply.
 */

const Port = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65535));

export const StaticEndpointSchema = v.strictObject({
  name: v.pipe(v.string(), v.minLength(1)),
  address: v.pipe(
    v.string(),
    v.regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, "an address of the form host:port"),
  ),
  labels: v.optional(v.record(v.string(), v.string()), {}),
  engine: v.optional(v.string(), "vllm"),
  /** Models (base and LoRA adapters) served; learned from the endpoint when omitted. */
  models: v.optional(v.array(v.pipe(v.string(), v.minLength(1))), []),
  /** The InferencePool this endpoint belongs to; default: the pool whose selector matches its labels. */
  pool: v.optional(v.pipe(v.string(), v.minLength(1))),
});
export type StaticEndpoint = v.InferOutput<typeof StaticEndpointSchema>;

export const SimulatedPodSchema = v.strictObject({
  port: v.pipe(Port, v.minValue(1)),
  model: v.pipe(v.string(), v.minLength(1)),
  loras: v.optional(v.array(v.string()), []),
  maxNumSeqs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  labels: v.optional(v.record(v.string(), v.string()), {}),
  /** The InferencePool this pod belongs to; default: the pool whose selector matches its labels. */
  pool: v.optional(v.pipe(v.string(), v.minLength(1))),
  /** As vLLM's `--runner`: a generation model, or a pooling model (embeddings, score, rerank). */
  runner: v.optional(v.picklist(["generate", "pooling"]), "generate"),
});

const Rfc3339 = v.pipe(
  v.string(),
  v.regex(
    /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/,
    "an RFC 3339 time, e.g. 2025-01-31T12:00:00Z",
  ),
  v.check((t) => Number.isFinite(Date.parse(t)), "a real calendar time"),
);

/** How one model appears in `/v1/models`. */
export const CatalogModelSchema = v.strictObject({
  id: v.pipe(v.string(), v.minLength(1)),
  ownedBy: v.optional(v.pipe(v.string(), v.minLength(1))),
  /** RFC 3339 in config, Unix seconds on the wire. */
  createdAt: v.optional(Rfc3339),
  /** Left out of the list, still routable and retrievable by id. */
  hidden: v.optional(v.boolean(), false),
});
export type CatalogModel = v.InferOutput<typeof CatalogModelSchema>;

const Sha256Hex = v.pipe(
  v.string(),
  v.regex(/^[0-9a-f]{64}$/i, "a SHA-256 hash as 64 hex digits"),
  v.toLowerCase(),
);

/** One API key: only its SHA-256 hash is stored. */
export const ApiKeySchema = v.strictObject({
  /** A label for logs; never the key. */
  name: v.pipe(v.string(), v.minLength(1)),
  sha256: Sha256Hex,
  /** Fairness id (flow-control tenant) of requests made with this key. */
  tenant: v.optional(v.pipe(v.string(), v.minLength(1))),
  /** Model names (as requested) this key may use; absent = all. */
  models: v.optional(v.array(v.pipe(v.string(), v.minLength(1)))),
  /** May pin the endpoint with x-gateway-destination-endpoint (still only within the pool). */
  trustedRouting: v.optional(v.boolean(), false),
});
export type ApiKey = v.InferOutput<typeof ApiKeySchema>;

export const SettingsSchema = v.strictObject({
  apiVersion: v.literal("gateway.inference.dev/v1alpha1"),
  kind: v.literal("GatewayConfig"),
  metadata: v.optional(v.looseObject({ name: v.optional(v.string()) })),
  port: v.optional(Port, 8080),
  hostname: v.optional(v.string(), "0.0.0.0"),
  /** Serve only this InferencePool of the file; default: every pool the file defines. */
  pool: v.optional(v.string()),
  /** Largest request body accepted, in bytes (413 above). */
  maxBodyBytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1024)), 8 * 1024 * 1024),
  /** The whole request body must arrive within this many ms (408 after), so half-sent bodies cannot hold requests open. */
  bodyReadTimeoutMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 30_000),
  /** On SIGTERM: how long in-flight requests may drain before connections are closed. */
  shutdownGraceMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 30_000),
  /**
   * Start-up warm-up: synthetic requests through a throwaway gateway for this many ms before
   * the listener opens, so the first requests get a compiled request path (src/runtime/warm-up.ts).
   * Off (0) by default: it costs the seconds after it and leans dearer at steady state
   * (docs/runtimes.md, "Start-up warm-up"). The runtime entries only; createGateway never warms.
   */
  warmUpMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(60_000)), 0),
  logLevel: v.optional(v.picklist(["debug", "info", "warn", "error", "silent"]), "info"),
  /** Which model name responses carry: the target actually served, or the one the client asked for. */
  responseModel: v.optional(v.picklist(["served", "requested"]), "served"),
  /**
   * Adds `x-gateway-destination-endpoint-served` (the serving pod's `ip:port`) to every answer
   * relayed from a model server. Off by default: GIE's and llm-d's endpoint picker count the
   * header as their own (`OutputInjectionHeaders`) and strip it from the client's answer, since
   * a pod's address is not the client's to know (and would let a client map which pod holds
   * which prompt prefix). On for debugging routing, or for clients you trust.
   */
  endpointServedHeader: v.optional(v.boolean(), false),
  /**
   * Lets a client choose the backend of its matched AIGatewayRoute rule by name with the
   * `x-gateway-backend` header: only among that rule's backends, only with keys that have
   * `trustedRouting`. Off: the header is ignored (and never forwarded).
   */
  clientBackendSelection: v.optional(v.boolean(), false),
  auth: v.optional(
    v.strictObject({
      /** When any keys are configured (here, in apiKeysFile or apiKeysEnv), inference routes need one. */
      apiKeys: v.optional(v.array(ApiKeySchema), []),
      /** A YAML/JSON file holding a list of apiKeys entries, read at start and on reload. */
      apiKeysFile: v.optional(v.string()),
      /** Name of an environment variable holding a JSON list of apiKeys entries. */
      apiKeysEnv: v.optional(v.string()),
      /** SHA-256 hashes of bearer tokens for /metrics and admin routes; empty = unprotected. */
      metricsKeys: v.optional(v.array(Sha256Hex), []),
    }),
    {},
  ),
  upstream: v.optional(
    v.strictObject({
      /** Forward the client's Authorization header to pods. */
      forwardAuthorization: v.optional(v.boolean(), false),
      /** A credential the gateway sends to every pod, e.g. vLLM's --api-key. */
      credential: v.optional(
        v.strictObject({
          header: v.optional(v.string(), "authorization"),
          /** The header's value; or name an environment variable with valueFromEnv (resolved at start). */
          value: v.optional(v.string()),
          valueFromEnv: v.optional(v.string()),
        }),
      ),
      /** Time to the pod's response headers (non-streaming answers send them at the end: keep it generous). */
      responseTimeoutMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 600_000),
      /** Longest silence between two chunks of a streamed answer. */
      idleTimeoutMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 120_000),
      /** Consecutive failures that eject an endpoint (passive health). */
      ejectAfterFailures: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 3),
      /** First ejection period; each new ejection of the same endpoint doubles it, up to maxEjectionMs. */
      ejectionMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(10)), 2000),
      /** Longest ejection. */
      maxEjectionMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(10)), 60_000),
      /** Answers remembered per endpoint for the failure rate (0 = judge by consecutive failures only). */
      failureWindow: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1000)), 20),
      /** Share of failed answers in the window (once half full) that ejects an endpoint. */
      maxFailureRate: v.optional(v.pipe(v.number(), v.minValue(0.01), v.maxValue(1)), 0.5),
      /** Endpoints tried for one request (primary + fallbacks) on connection failure, timeout or a retryOn status before any byte. */
      maxAttempts: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10)), 3),
      /** Pod statuses tried again on the next endpoint (nothing reached the client yet); [] = only connection failures and timeouts. */
      retryOn: v.optional(
        v.array(v.pipe(v.number(), v.integer(), v.minValue(500), v.maxValue(599))),
        [500, 502, 503, 504],
      ),
      /** Streams only: time to the pod's first body byte; a hung pod's stream moves to the next endpoint. */
      firstByteTimeoutMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 30_000),
    }),
    {},
  ),
  catalog: v.optional(
    v.strictObject({
      /** `owned_by` for models with no ownedBy of their own. */
      defaultOwner: v.optional(v.pipe(v.string(), v.minLength(1)), "inference-gateway"),
      models: v.optional(v.array(CatalogModelSchema), []),
    }),
    {},
  ),
  dataLayer: v.optional(
    v.strictObject({
      /** How often each endpoint's /metrics is scraped. */
      scrapeIntervalMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(5)), 50),
      scrapeTimeoutMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(10)), 1000),
      /** A snapshot older than this is stale (flow control counts stale pods as saturated). */
      stalenessMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(10)), 2000),
      /**
       * Ask pods for the mapped metrics only (prometheus_client's `name[]` query; checked per
       * pod against its full page, and asked in full where it does not answer so).
       */
      scrapeByName: v.optional(v.boolean(), true),
      /** How often endpoints' /v1/models is asked which models they serve. */
      modelsRefreshMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(100)), 5000),
      /** Extra engines (or replacements for built-ins): metric names as data. */
      engines: v.optional(EngineMappingsSchema, {}),
    }),
    {},
  ),
  /** Discover endpoints, objectives and rewrites from Kubernetes instead of this file (Bun and Node only). */
  kubernetes: v.optional(
    v.strictObject({
      /** Namespace of the InferencePool; default: the service account's namespace, else `default`. */
      namespace: v.optional(v.pipe(v.string(), v.minLength(1))),
      /** Namespaces watched, in routing order (with `namespace`, that one first); default as `namespace`. */
      namespaces: v.optional(v.pipe(v.array(v.pipe(v.string(), v.minLength(1))), v.minLength(1))),
      /** InferencePool name; default: the `pool` setting. */
      pool: v.optional(v.pipe(v.string(), v.minLength(1))),
      /** InferencePools served by name: `name` in every watched namespace, `namespace/name` in that one; listed ones route first, in this order. */
      pools: v.optional(v.pipe(v.array(v.pipe(v.string(), v.minLength(1))), v.minLength(1))),
      /** InferencePools served because their labels match; `matchLabels: {}` serves every pool. */
      poolSelector: v.optional(v.strictObject({ matchLabels: v.record(v.string(), v.string()) })),
      /** A kubeconfig file; default: in-cluster service account, else $KUBECONFIG, else ~/.kube/config. */
      kubeconfig: v.optional(v.string()),
    }),
  ),
  endpoints: v.optional(v.array(StaticEndpointSchema), []),
  simulator: v.optional(
    v.strictObject({
      hostname: v.optional(v.string(), "127.0.0.1"),
      timeScale: v.optional(v.pipe(v.number(), v.minValue(0)), 1),
      pods: v.array(SimulatedPodSchema),
    }),
  ),
});
export type Settings = v.InferOutput<typeof SettingsSchema>;

/** Settings when the file has no GatewayConfig document. */
export const defaultSettings = (): Settings =>
  v.parse(SettingsSchema, { apiVersion: "gateway.inference.dev/v1alpha1", kind: "GatewayConfig" });
