/**
 * random-picker: endpoints in uniformly random order, scores ignored (a baseline).
 *
 * Input: the filtered endpoints and the injected Random. Parameters: `maxNumOfEndpoints` (1).
 */
import type { Random } from "../src/clock.ts";
import type { Picker } from "../src/scheduling/framework/interfaces.ts";
import { PickerParameters } from "../src/scheduling/framework/params.ts";
import { type PluginDefinition, withParameters } from "../src/scheduling/framework/registry.ts";

export const RANDOM_PICKER = "random-picker";

export function randomPicker(opts: { name?: string; random: Random; maxNumOfEndpoints?: number }): Picker {
  const max = opts.maxNumOfEndpoints ?? 1;
  const { random } = opts;
  return {
    type: RANDOM_PICKER,
    name: opts.name ?? RANDOM_PICKER,
    pick(_ctx, scored) {
      const pool = scored.map((s) => s.endpoint);
      const n = Math.min(max, pool.length);
      // Partial Fisher-Yates: the first n slots end up a uniform sample, in random order.
      for (let i = 0; i < n; i++) {
        const j = i + Math.floor(random() * (pool.length - i));
        const t = pool[i]!;
        pool[i] = pool[j]!;
        pool[j] = t;
      }
      return pool.slice(0, n);
    },
  };
}

export const randomPickerPlugin: PluginDefinition = {
  type: RANDOM_PICKER,
  factory: withParameters(PickerParameters, (name, params, deps) =>
    randomPicker({ name, random: deps.random, maxNumOfEndpoints: params.maxNumOfEndpoints }),
  ),
};
