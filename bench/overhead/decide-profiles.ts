/**
 * Scheduling profiles for the fifteenth pass's split of the default profile (bun-split.ts,
 * decide-inproc.ts): each an EndpointPickerConfig document, appended to a GatewayConfig.
 */
/** An EndpointPickerConfig appended to the gateway's config: one plugin set per variant. */
function profileOf(plugins: string[], refs: string[]): string {
  return [
    "---",
    "apiVersion: inference.networking.x-k8s.io/v1alpha1",
    "kind: EndpointPickerConfig",
    "plugins:",
    ...plugins.map((p) => `  - ${p}`),
    "schedulingProfiles:",
    "  - name: default",
    "    plugins:",
    ...refs.map((r) => `      - ${r}`),
    "",
  ].join("\n");
}
const MAX = "{ type: max-score-picker, parameters: { maxNumOfEndpoints: 3 } }";
/** The same picker without rendezvous (no rendezvous key: no prompt parts for it). */
const MAX_NORV = "{ type: max-score-picker, parameters: { maxNumOfEndpoints: 3, rendezvous: false } }";
export const PROFILE_YAML: Record<string, string> = {
  random: profileOf(
    ["{ type: random-picker, parameters: { maxNumOfEndpoints: 3 } }"],
    ["pluginRef: random-picker"],
  ),
  max: profileOf([MAX], ["pluginRef: max-score-picker"]),
  maxnorv: profileOf([MAX_NORV], ["pluginRef: max-score-picker"]),
  defaultnorv: profileOf(
    [
      "{ type: queue-scorer }",
      "{ type: kv-cache-utilization-scorer }",
      "{ type: prefix-cache-scorer }",
      MAX_NORV,
    ],
    [
      "{ pluginRef: queue-scorer, weight: 2 }",
      "{ pluginRef: kv-cache-utilization-scorer, weight: 2 }",
      "{ pluginRef: prefix-cache-scorer, weight: 3 }",
      "pluginRef: max-score-picker",
    ],
  ),
  // The default profile written out (the same plugins, weights and picker).
  default: profileOf(
    ["{ type: queue-scorer }", "{ type: kv-cache-utilization-scorer }", "{ type: prefix-cache-scorer }", MAX],
    [
      "{ pluginRef: queue-scorer, weight: 2 }",
      "{ pluginRef: kv-cache-utilization-scorer, weight: 2 }",
      "{ pluginRef: prefix-cache-scorer, weight: 3 }",
      "pluginRef: max-score-picker",
    ],
  ),
  noprefix: profileOf(
    ["{ type: queue-scorer }", "{ type: kv-cache-utilization-scorer }", MAX],
    [
      "{ pluginRef: queue-scorer, weight: 2 }",
      "{ pluginRef: kv-cache-utilization-scorer, weight: 2 }",
      "pluginRef: max-score-picker",
    ],
  ),
  prefix: profileOf(
    ["{ type: prefix-cache-scorer }", MAX],
    ["{ pluginRef: prefix-cache-scorer, weight: 3 }", "pluginRef: max-score-picker"],
  ),
};
