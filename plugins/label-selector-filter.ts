/**
 * label-selector-filter: keep endpoints whose labels include every `matchLabels` pair
 * (ANDed, like a Kubernetes selector). May keep none: the request is then rejected as
 * saturated, so use it for hard placement rules.
 *
 * Input: `endpoint.labels`. Parameters: `matchLabels` (1..64 labels, required).
 */
import * as v from "valibot";
import { MatchLabels } from "../src/config/resources.ts";
import type { Filter } from "../src/scheduling/framework/interfaces.ts";
import { type PluginDefinition, withParameters } from "../src/scheduling/framework/registry.ts";

export const LABEL_SELECTOR_FILTER = "label-selector-filter";

export function labelSelectorFilter(opts: {
  name?: string;
  matchLabels: Readonly<Record<string, string>>;
}): Filter {
  const pairs = Object.entries(opts.matchLabels);
  return {
    type: LABEL_SELECTOR_FILTER,
    name: opts.name ?? LABEL_SELECTOR_FILTER,
    filter: (_ctx, endpoints) => endpoints.filter((e) => pairs.every(([k, val]) => e.labels[k] === val)),
  };
}

export const labelSelectorFilterPlugin: PluginDefinition = {
  type: LABEL_SELECTOR_FILTER,
  factory: withParameters(
    v.strictObject({
      matchLabels: MatchLabels,
    }),
    (name, params) => labelSelectorFilter({ name, matchLabels: params.matchLabels }),
  ),
};
