/**
 * round-robin-picker: endpoints in turn, scores ignored (a baseline for benchmarks).
 *
 *   primary = endpoints[k mod n] for the k-th decision of this instance; fallbacks are
 *   the following endpoints, wrapping around
 *
 * Input: the filtered endpoints in their given order (the endpoint store's stable
 * order). State: one counter per instance. Parameters: `maxNumOfEndpoints` (1).
 */
import type { Picker } from "../src/scheduling/framework/interfaces.ts";
import { PickerParameters } from "../src/scheduling/framework/params.ts";
import { type PluginDefinition, withParameters } from "../src/scheduling/framework/registry.ts";

export const ROUND_ROBIN_PICKER = "round-robin-picker";

export function roundRobinPicker(opts: { name?: string; maxNumOfEndpoints?: number } = {}): Picker {
  const max = opts.maxNumOfEndpoints ?? 1;
  let next = 0;
  return {
    type: ROUND_ROBIN_PICKER,
    name: opts.name ?? ROUND_ROBIN_PICKER,
    pick(_ctx, scored) {
      const n = scored.length;
      if (n === 0) return [];
      const start = next % n;
      next = (next + 1) % 1_000_000_007;
      const out = [];
      for (let i = 0; i < Math.min(max, n); i++) out.push(scored[(start + i) % n]!.endpoint);
      return out;
    },
  };
}

export const roundRobinPickerPlugin: PluginDefinition = {
  type: ROUND_ROBIN_PICKER,
  factory: withParameters(PickerParameters, (name, params) =>
    roundRobinPicker({ name, maxNumOfEndpoints: params.maxNumOfEndpoints }),
  ),
};
