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

/** The longest timer every runtime honours (2^31 - 1 ms, about 24.8 days): "no TTL". */
export const NO_TTL_MS = 2_147_483_647;

/** A limit; 0 means unlimited, as llm-d v0.10 documents it. */
const Quantity = v.pipe(
  v.union([v.number(), v.string()], "a whole number or a Kubernetes quantity such as 5000, 1Gi or 500M"),
  v.transform(parseQuantity),
  v.number("a whole number or a Kubernetes quantity such as 5000, 1Gi or 500M"),
  v.minValue(0, "0 (unlimited) or more"),
  v.transform((n) => (n === 0 ? Number.POSITIVE_INFINITY : n)),
);

/** A TTL; "0s" means none (upstream: the client's own deadline), i.e. wait until the client leaves. */
const Duration = v.pipe(
  v.string("a duration such as 60s, 1m30s or 500ms"),
  v.transform(parseDuration),
  v.number("a duration such as 60s, 1m30s or 500ms"),
  v.minValue(0, "a duration such as 60s (0s = no TTL)"),
  v.transform((ms) => (ms === 0 ? NO_TTL_MS : Math.min(ms, NO_TTL_MS))),
);

/** llm-d v0.10's `saturationDetector: {pluginRef}`: a detector plugin's name or a built-in detector type. */
export const SaturationDetectorRefSchema = v.strictObject({
  pluginRef: v.pipe(v.string(), v.minLength(1, "a saturation detector's name, e.g. utilization-detector")),
});

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
  /** llm-d v0.10: the band's own queue TTL, replacing flowControl.defaultRequestTTL for its requests ("0s" = none). */
  defaultRequestTTL: v.optional(Duration),
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
  /** llm-d v0.10: settings for negative (sheddable) priorities not listed; absent = defaultPriorityBand. */
  defaultNegativePriorityBand: v.optional(
    v.strictObject({ priority: v.optional(v.number()), ...bandFields }),
  ),
  /** llm-d v0.10: the pool's saturation detector, by plugin name or detector type. */
  saturationDetector: v.optional(SaturationDetectorRefSchema),
  /** llm-d (after v0.10): how long a request arriving while the pool has no endpoint waits for one (unset: 503 at once). */
  noEndpointRequestTTL: v.optional(Duration),
  /** llm-d v0.10: end sheddable (negative-priority) requests in flight when higher-priority ones wait for room (see eviction.ts). */
  enableEviction: v.optional(v.boolean()),
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
  /** llm-d v0.10: the usage-limit policy plugin, applied as static per-band `ceiling`s (see the admitter). */
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
  /** How long a request of the band may wait queued (the band's defaultRequestTTL, else the global one). */
  readonly ttlMs: number;
  /** The setting that gave `ttlMs`, named in the TTL-expired error. */
  readonly ttlPath: string;
  /** e.g. `flowControl.priorityBands[1]` or `flowControl.defaultPriorityBand`. */
  readonly path: string;
}

/** Effective flow-control settings: defaults applied, per-priority lookup. */
export interface FlowControlSettings {
  readonly ttlMs: number;
  /** How long an arrival waits for the empty pool to get an endpoint; undefined = 503 at once. */
  readonly noEndpointTtlMs: number | undefined;
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
    ...ttlOf(d.defaultRequestTTL, "flowControl.defaultPriorityBand", {
      ttlMs: config.defaultRequestTTL,
      ttlPath: "flowControl.defaultRequestTTL",
    }),
  };
  const n = config.defaultNegativePriorityBand;
  const negative = n && {
    maxRequests: n.maxRequests ?? defaults.maxRequests,
    maxBytes: n.maxBytes ?? defaults.maxBytes,
    fairnessPolicyRef: n.fairnessPolicyRef ?? defaults.fairnessPolicyRef,
    orderingPolicyRef: n.orderingPolicyRef ?? defaults.orderingPolicyRef,
    ceiling: n.ceiling ?? defaults.ceiling,
    ...ttlOf(n.defaultRequestTTL, "flowControl.defaultNegativePriorityBand", defaults),
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
      ...ttlOf(b.defaultRequestTTL, `flowControl.priorityBands[${i}]`, defaults),
      path: `flowControl.priorityBands[${i}]`,
    });
  });
  return {
    ttlMs: config.defaultRequestTTL,
    noEndpointTtlMs: config.noEndpointRequestTTL,
    maxRequests: config.maxRequests ?? Number.POSITIVE_INFINITY,
    maxBytes: config.maxBytes ?? Number.POSITIVE_INFINITY,
    defaults,
    band(priority) {
      let b = bands.get(priority);
      if (!b) {
        b =
          priority < 0 && negative
            ? { priority, ...negative, path: "flowControl.defaultNegativePriorityBand" }
            : { priority, ...defaults, path: "flowControl.defaultPriorityBand" };
        bands.set(priority, b);
      }
      return b;
    },
  };
}

/** A band's own TTL (with the path that set it), else the one it inherits. */
function ttlOf(own: number | undefined, path: string, inherited: { ttlMs: number; ttlPath: string }) {
  return own === undefined
    ? { ttlMs: inherited.ttlMs, ttlPath: inherited.ttlPath }
    : { ttlMs: own, ttlPath: `${path}.defaultRequestTTL` };
}

/**
 * One start-up line per accepted field this gateway does not act on the way upstream
 * does, saying what applies instead (empty when none is set).
 */
export function flowControlNotes(config: FlowControlConfig | undefined): string[] {
  if (!config) return [];
  const out: string[] = [];
  if (config.usageLimitPolicyPluginRef !== undefined)
    out.push(
      `flowControl.usageLimitPolicyPluginRef (${config.usageLimitPolicyPluginRef}): applied as static per-band ceilings over the listed priorityBands, per endpoint (priorityBands[].ceiling); soft-reflective-ceiling-policy gates bands per dispatch pass instead`,
    );
  return out;
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
