import * as v from "valibot";
import { ConfigError } from "../../config/errors.ts";
import { toConfigError } from "../../config/issues.ts";
import type { FlowPolicies } from "./types.ts";
import { parseDuration, parseQuantity } from "./units.ts";

/**
 * The `flowControl` section of an EndpointPickerConfig, shaped like GIE's
 * (`maxBytes`, `maxRequests`, `defaultRequestTTL`, `defaultPriorityBand`,
 * `priorityBands[]` with `fairnessPolicyRef` / `orderingPolicyRef`), plus one
 * extension: `ceiling`, the endpoint saturation score below which an endpoint takes
 * requests of the band (a static usage limit per band, like llm-d's
 * static-usage-limit-policy, applied per endpoint).
 *
 * Limits count QUEUED requests (dispatched ones are bounded by the ceiling instead).
 */

export const DEFAULT_BAND_MAX_REQUESTS = 5000;
export const DEFAULT_BAND_MAX_BYTES = 1_000_000_000;
export const DEFAULT_REQUEST_TTL = "60s";
export const DEFAULT_FAIRNESS_POLICY = "global-strict-fairness-policy";
export const DEFAULT_ORDERING_POLICY = "fcfs-ordering-policy";
export const DEFAULT_CEILING = 1;

const Quantity = v.pipe(
  v.union([v.number(), v.string()], "a whole number or a Kubernetes quantity such as 5000, 1Gi or 500M"),
  v.transform(parseQuantity),
  v.number("a whole number or a Kubernetes quantity such as 5000, 1Gi or 500M"),
  v.minValue(1, "at least 1"),
);

const Duration = v.pipe(
  v.string("a duration such as 60s, 1m30s or 500ms"),
  v.transform(parseDuration),
  v.number("a duration such as 60s, 1m30s or 500ms"),
  v.minValue(1, "a duration of at least 1ms"),
);

const PolicyRef = v.pipe(v.string(), v.minLength(1, "a policy name, e.g. fcfs-ordering-policy"));

const bandFields = {
  /** Queued requests this band holds before rejecting (429). */
  maxRequests: v.optional(Quantity),
  /** Queued body bytes this band holds before rejecting (429). */
  maxBytes: v.optional(Quantity),
  /** Fairness between flows of the band (a built-in type or a `plugins[].name`). */
  fairnessPolicyRef: v.optional(PolicyRef),
  /** Ordering inside one flow (a built-in type or a `plugins[].name`). */
  orderingPolicyRef: v.optional(PolicyRef),
  /** Extension: dispatch this band only to endpoints whose saturation score < ceiling. */
  ceiling: v.optional(v.pipe(v.number(), v.gtValue(0, "a saturation above 0, e.g. 0.8 or 1.0"))),
};

export const PriorityBandSchema = v.strictObject({
  priority: v.pipe(v.number(), v.integer("an integer priority (InferenceObjective spec.priority)")),
  /** Accepted for GIE compatibility; only used in messages. */
  priorityName: v.optional(v.string()),
  /** Accepted for GIE compatibility (queue implementation); ignored. */
  queue: v.optional(v.string()),
  ...bandFields,
});

export const FlowControlConfigSchema = v.strictObject({
  /** Optional global limit on queued bytes across all bands. */
  maxBytes: v.optional(Quantity),
  /** Optional global limit on queued requests across all bands. */
  maxRequests: v.optional(Quantity),
  /** How long a request may wait in the queue before 429 `rejected-ttl-expired`. */
  defaultRequestTTL: v.optional(Duration, DEFAULT_REQUEST_TTL),
  /** Settings for priorities not listed in priorityBands. */
  defaultPriorityBand: v.optional(v.strictObject({ priority: v.optional(v.number()), ...bandFields }), {}),
  priorityBands: v.optional(
    v.pipe(
      v.array(PriorityBandSchema),
      v.check(
        (bands) => new Set(bands.map((b) => b.priority)).size === bands.length,
        "each priority listed once",
      ),
    ),
    [],
  ),
  /** Accepted for GIE compatibility; adaptive ceilings are not implemented (use `ceiling`). */
  usageLimitPolicyPluginRef: v.optional(v.string()),
});

export type FlowControlConfigInput = v.InferInput<typeof FlowControlConfigSchema>;
export type FlowControlConfig = v.InferOutput<typeof FlowControlConfigSchema>;

/** Effective settings of one priority band, with the config path that set them (for messages). */
export interface BandSettings {
  readonly priority: number;
  readonly maxRequests: number;
  readonly maxBytes: number;
  readonly fairnessPolicyRef: string;
  readonly orderingPolicyRef: string;
  readonly ceiling: number;
  /** e.g. `flowControl.priorityBands[1]` or `flowControl.defaultPriorityBand`. */
  readonly path: string;
}

/** Effective flow-control settings: defaults applied, per-priority lookup. */
export interface FlowControlSettings {
  readonly ttlMs: number;
  readonly maxRequests: number;
  readonly maxBytes: number;
  /** Settings of priorities not listed in priorityBands (path `flowControl.defaultPriorityBand`). */
  readonly defaults: Omit<BandSettings, "priority" | "path">;
  band(priority: number): BandSettings;
}

/** Applies defaults; `band()` answers for any priority (listed or not), memoized. */
export function resolveFlowControl(config: FlowControlConfig): FlowControlSettings {
  const d = config.defaultPriorityBand;
  const defaults = {
    maxRequests: d.maxRequests ?? DEFAULT_BAND_MAX_REQUESTS,
    maxBytes: d.maxBytes ?? DEFAULT_BAND_MAX_BYTES,
    fairnessPolicyRef: d.fairnessPolicyRef ?? DEFAULT_FAIRNESS_POLICY,
    orderingPolicyRef: d.orderingPolicyRef ?? DEFAULT_ORDERING_POLICY,
    ceiling: d.ceiling ?? DEFAULT_CEILING,
  };
  const bands = new Map<number, BandSettings>();
  config.priorityBands.forEach((b, i) => {
    bands.set(b.priority, {
      priority: b.priority,
      maxRequests: b.maxRequests ?? defaults.maxRequests,
      maxBytes: b.maxBytes ?? defaults.maxBytes,
      fairnessPolicyRef: b.fairnessPolicyRef ?? defaults.fairnessPolicyRef,
      orderingPolicyRef: b.orderingPolicyRef ?? defaults.orderingPolicyRef,
      ceiling: b.ceiling ?? defaults.ceiling,
      path: `flowControl.priorityBands[${i}]`,
    });
  });
  return {
    ttlMs: config.defaultRequestTTL,
    maxRequests: config.maxRequests ?? Number.POSITIVE_INFINITY,
    maxBytes: config.maxBytes ?? Number.POSITIVE_INFINITY,
    defaults,
    band(priority) {
      let b = bands.get(priority);
      if (!b) {
        b = { priority, ...defaults, path: "flowControl.defaultPriorityBand" };
        bands.set(priority, b);
      }
      return b;
    },
  };
}

/** Validates and resolves in one go. Throws a ConfigError naming the field path on bad input. */
export function flowControlSettings(input: unknown = {}, where = "flowControl"): FlowControlSettings {
  const result = v.safeParse(FlowControlConfigSchema, input);
  if (!result.success) throw toConfigError(result.issues, where);
  return resolveFlowControl(result.output);
}

/** Fails at start-up (not on the first queued request) when a band names an unknown policy. */
export function checkPolicyRefs(
  config: FlowControlConfig,
  settings: FlowControlSettings,
  policies: FlowPolicies,
) {
  const check = (path: string, s: Pick<BandSettings, "fairnessPolicyRef" | "orderingPolicyRef">) => {
    if (!policies.fairness(s.fairnessPolicyRef))
      throw new ConfigError({
        path: `${path}.fairnessPolicyRef`,
        expected: "a fairness policy type or the name of a fairness-policy plugin",
        received: JSON.stringify(s.fairnessPolicyRef),
      });
    if (!policies.ordering(s.orderingPolicyRef))
      throw new ConfigError({
        path: `${path}.orderingPolicyRef`,
        expected: "an ordering policy type or the name of an ordering-policy plugin",
        received: JSON.stringify(s.orderingPolicyRef),
      });
  };
  check("flowControl.defaultPriorityBand", settings.defaults);
  config.priorityBands.forEach((b, i) => {
    check(`flowControl.priorityBands[${i}]`, settings.band(b.priority));
  });
}
