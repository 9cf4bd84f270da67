/**
 * weighted-random-picker: a random endpoint with probability proportional to its total
 * score; fallbacks drawn the same way without replacement.
 *
 *   P(e first) = score(e) / sum(scores); endpoints scoring 0 come after all positive
 *   ones, in random order (all zero = uniform)
 *
 * Implementation: Efraimidis-Spirakis weighted sampling without replacement: key =
 * ln(u) / score with u uniform in (0, 1], order by descending key; one pass and a sort,
 * and the order of the first k is exactly sequential proportional draws.
 *
 * Input: the totals and the injected Random. Parameters: `maxNumOfEndpoints` (1).
 */
import type { Random } from "../src/clock.ts";
import type { Picker } from "../src/scheduling/framework/interfaces.ts";
import { PickerParameters } from "../src/scheduling/framework/params.ts";
import { type PluginDefinition, withParameters } from "../src/scheduling/framework/registry.ts";

export const WEIGHTED_RANDOM_PICKER = "weighted-random-picker";

export function weightedRandomPicker(opts: {
  name?: string;
  random: Random;
  maxNumOfEndpoints?: number;
}): Picker {
  const max = opts.maxNumOfEndpoints ?? 1;
  const { random } = opts;
  return {
    type: WEIGHTED_RANDOM_PICKER,
    name: opts.name ?? WEIGHTED_RANDOM_PICKER,
    pick(_ctx, scored) {
      const keyed = scored.map((s) => ({
        endpoint: s.endpoint,
        key: s.score > 0 ? Math.log(1 - random()) / s.score : Number.NEGATIVE_INFINITY,
        tie: random(),
      }));
      keyed.sort((a, b) => (b.key === a.key ? a.tie - b.tie : b.key - a.key));
      return keyed.slice(0, max).map((k) => k.endpoint);
    },
  };
}

export const weightedRandomPickerPlugin: PluginDefinition = {
  type: WEIGHTED_RANDOM_PICKER,
  factory: withParameters(PickerParameters, (name, params, deps) =>
    weightedRandomPicker({ name, random: deps.random, maxNumOfEndpoints: params.maxNumOfEndpoints }),
  ),
};
