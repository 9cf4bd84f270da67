/**
 * The InferenceModelRewrite resource as users `kubectl apply` it (GIE
 * `inference.networking.x-k8s.io/v1alpha2`, also published as `llm-d.ai/v1alpha2`).
 *
 * Objects are valibot `v.object`s, which drop unknown keys: `status`, `labels`,
 * `annotations`, `uid`, ... are accepted and ignored, as Kubernetes users expect. Every
 * field we read is validated, with a message phrased as "what was expected", because
 * `parseRewrite` copies it into `ConfigError.expected`.
 *
 * Semantic checks that span fields (mixed weighted/unweighted targets, duplicate names)
 * live in `validate.ts` and `table.ts`, so programmatically built documents get them too.
 */
import * as v from "valibot";

export const REWRITE_KIND = "InferenceModelRewrite";
export const REWRITE_API_VERSIONS = ["inference.networking.x-k8s.io/v1alpha2", "llm-d.ai/v1alpha2"] as const;
export const DEFAULT_POOL_GROUP = "inference.networking.k8s.io";
export const DEFAULT_POOL_KIND = "InferencePool";
export const DEFAULT_NAMESPACE = "default";
export const MIN_WEIGHT = 1;
export const MAX_WEIGHT = 1_000_000;

const nonEmpty = (what: string) =>
  v.pipe(v.string(`${what} (a string)`), v.minLength(1, `${what} (a non-empty string)`));

/**
 * RFC 3339 / ISO 8601 timestamp. YAML 1.2 (the `yaml` package default) keeps it a string;
 * a YAML 1.1 loader may hand us a Date, which we normalize back to an ISO string.
 */
const TIMESTAMP = 'an RFC 3339 timestamp such as "2025-01-01T00:00:00Z"';
const Timestamp = v.union(
  [
    v.pipe(
      v.date(TIMESTAMP),
      v.check((d) => !Number.isNaN(d.getTime()), TIMESTAMP),
      v.transform((d) => d.toISOString()),
    ),
    v.pipe(
      v.string(TIMESTAMP),
      v.check((s) => !Number.isNaN(Date.parse(s)), TIMESTAMP),
    ),
  ],
  TIMESTAMP,
);

const Metadata = v.object(
  {
    name: nonEmpty("a resource name"),
    namespace: v.optional(nonEmpty("a namespace"), DEFAULT_NAMESPACE),
    creationTimestamp: v.optional(Timestamp),
  },
  "an object {name, namespace?, creationTimestamp?}",
);

const PoolRef = v.object(
  {
    group: v.optional(v.string("an API group (a string)"), DEFAULT_POOL_GROUP),
    kind: v.optional(v.string("a kind (a string)"), DEFAULT_POOL_KIND),
    name: nonEmpty("an InferencePool name"),
  },
  "an object {group?, kind?, name}",
);

const Match = v.object(
  {
    model: v.object(
      {
        type: v.optional(v.picklist(["Exact"], '"Exact" (the only supported match type)'), "Exact"),
        value: nonEmpty("a model name"),
      },
      "an object {type?: Exact, value}",
    ),
  },
  "an object {model: {type?: Exact, value}}",
);

const Weight = v.pipe(
  v.number(`an integer weight from ${MIN_WEIGHT} to ${MAX_WEIGHT}`),
  v.integer(`an integer weight from ${MIN_WEIGHT} to ${MAX_WEIGHT}`),
  v.minValue(MIN_WEIGHT, `an integer weight from ${MIN_WEIGHT} to ${MAX_WEIGHT}`),
  v.maxValue(MAX_WEIGHT, `an integer weight from ${MIN_WEIGHT} to ${MAX_WEIGHT}`),
);

const Target = v.object(
  { modelRewrite: nonEmpty("a target model name"), weight: v.optional(Weight) },
  "an object {modelRewrite, weight?}",
);

const Rule = v.object(
  {
    /** ORed; empty or missing = matches every model (a generic rule). */
    matches: v.optional(v.array(Match, "a list of matches"), []),
    targets: v.pipe(
      v.array(Target, "a list of targets"),
      v.minLength(1, "at least one target {modelRewrite, weight?}"),
    ),
  },
  "an object {matches?, targets}",
);

export const InferenceModelRewriteSchema = v.object(
  {
    apiVersion: v.picklist(REWRITE_API_VERSIONS, `one of ${REWRITE_API_VERSIONS.join(", ")}`),
    kind: v.literal(REWRITE_KIND, `"${REWRITE_KIND}"`),
    metadata: Metadata,
    spec: v.object(
      {
        poolRef: PoolRef,
        rules: v.array(Rule, "a list of rules {matches?, targets}"),
      },
      "an object {poolRef, rules}",
    ),
  },
  "an InferenceModelRewrite object {apiVersion, kind, metadata, spec}",
);

/** A parsed resource: defaults applied (namespace, poolRef group/kind, match type, matches). */
export type InferenceModelRewrite = v.InferOutput<typeof InferenceModelRewriteSchema>;
export type InferenceModelRewriteInput = v.InferInput<typeof InferenceModelRewriteSchema>;
export type RewriteRule = InferenceModelRewrite["spec"]["rules"][number];
export type RewriteTarget = RewriteRule["targets"][number];
