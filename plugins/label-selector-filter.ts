/**
 * label-selector-filter: keep endpoints whose labels match a Kubernetes label selector:
 * every `matchLabels` pair and every `matchExpressions` requirement (all ANDed). May
 * keep none: the request is then rejected as saturated, so use it for hard placement
 * rules.
 *
 * Requirements (Kubernetes semantics): `In` (the label is one of `values`), `NotIn`
 * (absent or not one of `values`), `Exists`, `DoesNotExist` (no `values` for these two).
 *
 * Input: `endpoint.labels`. Parameters: `matchLabels` (1..64 labels),
 * `matchExpressions` (1..64 requirements); at least one of the two.
 */
import * as v from "valibot";
import { MatchLabels } from "../src/config/resources.ts";
import type { Endpoint } from "../src/endpoints/types.ts";
import type { Filter } from "../src/scheduling/framework/interfaces.ts";
import { type PluginDefinition, withParameters } from "../src/scheduling/framework/registry.ts";

export const LABEL_SELECTOR_FILTER = "label-selector-filter";

const Values = v.pipe(v.array(v.string()), v.maxLength(256));

const Requirement = v.variant("operator", [
  v.strictObject({
    key: v.pipe(v.string(), v.minLength(1)),
    operator: v.picklist(["In", "NotIn"]),
    values: v.pipe(Values, v.minLength(1, "at least one value for In / NotIn")),
  }),
  v.strictObject({
    key: v.pipe(v.string(), v.minLength(1)),
    operator: v.picklist(["Exists", "DoesNotExist"]),
    values: v.optional(v.pipe(Values, v.maxLength(0, "no values for Exists / DoesNotExist"))),
  }),
]);
export type LabelRequirement = v.InferOutput<typeof Requirement>;

const Parameters = v.pipe(
  v.strictObject({
    matchLabels: v.optional(MatchLabels),
    matchExpressions: v.optional(v.pipe(v.array(Requirement), v.minLength(1), v.maxLength(64))),
  }),
  v.check(
    (p) => p.matchLabels !== undefined || p.matchExpressions !== undefined,
    "matchLabels or matchExpressions (a label selector)",
  ),
);

function matches(labels: Endpoint["labels"], r: LabelRequirement): boolean {
  const value = labels[r.key];
  switch (r.operator) {
    case "In":
      return value !== undefined && r.values.includes(value);
    case "NotIn":
      return value === undefined || !r.values.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
  }
}

export function labelSelectorFilter(opts: {
  name?: string;
  matchLabels?: Readonly<Record<string, string>>;
  matchExpressions?: readonly LabelRequirement[];
}): Filter {
  const pairs = Object.entries(opts.matchLabels ?? {});
  const requirements = opts.matchExpressions ?? [];
  return {
    type: LABEL_SELECTOR_FILTER,
    name: opts.name ?? LABEL_SELECTOR_FILTER,
    filter: (_ctx, endpoints) =>
      endpoints.filter(
        (e) =>
          pairs.every(([k, val]) => e.labels[k] === val) && requirements.every((r) => matches(e.labels, r)),
      ),
  };
}

export const labelSelectorFilterPlugin: PluginDefinition = {
  type: LABEL_SELECTOR_FILTER,
  factory: withParameters(Parameters, (name, params) =>
    labelSelectorFilter({
      name,
      ...(params.matchLabels ? { matchLabels: params.matchLabels } : {}),
      ...(params.matchExpressions ? { matchExpressions: params.matchExpressions } : {}),
    }),
  ),
};
