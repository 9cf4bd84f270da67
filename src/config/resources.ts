import * as v from "valibot";
import { FlowControlConfigSchema, SaturationDetectorRefSchema } from "../flow/control/config.ts";

/**
 * The Kubernetes resource documents this gateway reads, as users apply them
 * (see ../shared/REFERENCE.md). In a config file, unknown fields are errors
 * (src/config/strict.ts, beside these schemas); from the cluster, which validated them
 * against its CRDs already, they are tolerated.
 */

export const Metadata = v.looseObject({
  name: v.pipe(v.string(), v.minLength(1, "a non-empty metadata.name")),
  namespace: v.optional(v.string()),
  creationTimestamp: v.optional(v.string()),
  labels: v.optional(v.record(v.string(), v.string())),
});

/** A label selector's matchLabels: 1-64 labels, ANDed. */
export const MatchLabels = v.pipe(
  v.record(v.string(), v.string()),
  v.check((m) => {
    const n = Object.keys(m).length;
    return n >= 1 && n <= 64;
  }, "between 1 and 64 labels"),
);

const Port = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535));

const Selector = v.looseObject({ matchLabels: MatchLabels });

const TargetPorts = v.pipe(
  v.array(v.looseObject({ number: Port })),
  v.minLength(1, "at least one target port"),
  v.maxLength(8, "at most 8 target ports"),
  v.check((ps) => new Set(ps.map((p) => p.number)).size === ps.length, "unique port numbers"),
);

const PoolSpecFields = {
  appProtocol: v.optional(v.picklist(["http", "kubernetes.io/h2c"]), "http"),
  endpointPickerRef: v.optional(
    v.looseObject({
      group: v.optional(v.string()),
      kind: v.optional(v.string()),
      name: v.optional(v.string()),
      port: v.optional(v.looseObject({ number: Port })),
      failureMode: v.optional(v.picklist(["FailOpen", "FailClose"]), "FailClose"),
    }),
  ),
};

/** The InferencePool as the cluster serves it (Kubernetes discovery reads its selector and ports). */
export const InferencePoolSchema = v.looseObject({
  apiVersion: v.literal("inference.networking.k8s.io/v1"),
  kind: v.literal("InferencePool"),
  metadata: Metadata,
  spec: v.looseObject({ selector: Selector, targetPorts: TargetPorts, ...PoolSpecFields }),
});
export type InferencePool = v.InferOutput<typeof InferencePoolSchema>;

/**
 * An InferencePool in the config file. With static endpoints it only names the pool, so
 * `selector` and `targetPorts` may be left out (the cluster's pool is what discovery reads).
 */
export const FileInferencePoolSchema = v.pipe(
  v.looseObject({
    ...InferencePoolSchema.entries,
    spec: v.optional(
      v.looseObject({
        selector: v.optional(Selector),
        targetPorts: v.optional(TargetPorts),
        ...PoolSpecFields,
      }),
      {},
    ),
  }),
  v.transform(
    (pool): InferencePool => ({
      ...pool,
      spec: {
        ...pool.spec,
        selector: pool.spec.selector ?? { matchLabels: {} },
        targetPorts: pool.spec.targetPorts ?? [],
      },
    }),
  ),
);

const ALPHA_GROUPS = ["inference.networking.x-k8s.io/v1alpha2", "llm-d.ai/v1alpha2"] as const;

export const PoolRef = v.looseObject({
  group: v.optional(v.string(), "inference.networking.k8s.io"),
  kind: v.optional(v.string(), "InferencePool"),
  name: v.pipe(v.string(), v.minLength(1)),
});

export const InferenceObjectiveSchema = v.looseObject({
  apiVersion: v.picklist(ALPHA_GROUPS),
  kind: v.literal("InferenceObjective"),
  metadata: Metadata,
  spec: v.looseObject({
    priority: v.optional(v.pipe(v.number(), v.integer(), v.minValue(-2147483648), v.maxValue(2147483647)), 0),
    poolRef: PoolRef,
  }),
});
export type InferenceObjective = v.InferOutput<typeof InferenceObjectiveSchema>;

/** EndpointPickerConfig is validated in depth by the scheduling registry; here only its envelope. */
export const EndpointPickerConfigSchema = v.looseObject({
  // llm-d's guides already write llm-d.ai/v1 (the same fields as v1alpha1).
  apiVersion: v.picklist(["inference.networking.x-k8s.io/v1alpha1", "llm-d.ai/v1alpha1", "llm-d.ai/v1"]),
  kind: v.literal("EndpointPickerConfig"),
  plugins: v.optional(
    v.array(
      v.looseObject({
        name: v.optional(v.string()),
        type: v.pipe(v.string(), v.minLength(1)),
        parameters: v.optional(v.unknown()),
      }),
    ),
    [],
  ),
  schedulingProfiles: v.optional(
    v.array(
      v.looseObject({
        name: v.string(),
        plugins: v.array(v.looseObject({ pluginRef: v.string(), weight: v.optional(v.number()) })),
      }),
    ),
    [],
  ),
  /** GIE turns flow control on with `featureGates: [flowControl]`. */
  featureGates: v.optional(v.array(v.string()), []),
  flowControl: v.optional(FlowControlConfigSchema),
  /**
   * GIE v1.3's saturation thresholds for the utilization detector, or (GIE v1.5, llm-d
   * v0.10) `{pluginRef}` naming the detector plugin (or a built-in detector type).
   */
  saturationDetector: v.optional(
    v.union([
      SaturationDetectorRefSchema,
      v.strictObject({
        queueDepthThreshold: v.optional(v.pipe(v.number(), v.minValue(0))),
        kvCacheUtilThreshold: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1))),
        metricsStalenessThreshold: v.optional(v.string()),
      }),
    ]),
  ),
});
export type EndpointPickerConfig = v.InferOutput<typeof EndpointPickerConfigSchema>;
