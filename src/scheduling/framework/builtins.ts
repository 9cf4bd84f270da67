import { kvCacheUtilizationScorerPlugin } from "../../../plugins/kv-cache-utilization-scorer.ts";
import { labelSelectorFilterPlugin } from "../../../plugins/label-selector-filter.ts";
import { loraAffinityScorerPlugin } from "../../../plugins/lora-affinity-scorer.ts";
import { maxScorePickerPlugin } from "../../../plugins/max-score-picker.ts";
import { prefixCacheScorerPlugin } from "../../../plugins/prefix-cache-scorer.ts";
import { queueScorerPlugin } from "../../../plugins/queue-scorer.ts";
import { randomPickerPlugin } from "../../../plugins/random-picker.ts";
import { roundRobinPickerPlugin } from "../../../plugins/round-robin-picker.ts";
import { runningRequestsSizeScorerPlugin } from "../../../plugins/running-requests-size-scorer.ts";
import { sessionAffinityScorerPlugin } from "../../../plugins/session-affinity-scorer.ts";
import { singleProfileHandlerPlugin } from "../../../plugins/single-profile-handler.ts";
import { utilizationFilterPlugin } from "../../../plugins/utilization-filter.ts";
import { weightedRandomPickerPlugin } from "../../../plugins/weighted-random-picker.ts";
import { type PluginDefinition, PluginRegistry } from "./registry.ts";

/** Every built-in scheduling plugin, by the type name users write in YAML. */
export const BUILTIN_PLUGINS: readonly PluginDefinition[] = [
  queueScorerPlugin,
  kvCacheUtilizationScorerPlugin,
  prefixCacheScorerPlugin,
  loraAffinityScorerPlugin,
  runningRequestsSizeScorerPlugin,
  sessionAffinityScorerPlugin,
  utilizationFilterPlugin,
  labelSelectorFilterPlugin,
  maxScorePickerPlugin,
  randomPickerPlugin,
  weightedRandomPickerPlugin,
  roundRobinPickerPlugin,
  singleProfileHandlerPlugin,
];

/** A fresh registry with all built-ins; add custom plugins with `register(type, factory)`. */
export function createDefaultRegistry(): PluginRegistry {
  const registry = new PluginRegistry();
  for (const p of BUILTIN_PLUGINS) registry.register(p.type, p.factory);
  return registry;
}
