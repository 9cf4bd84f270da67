/** The scheduling configurations the benchmarks compare, as EndpointPickerConfig YAML. */
import { readFileSync } from "node:fs";

type PluginSpec = { type: string; name?: string; parameters?: Record<string, unknown> };
type Ref = { pluginRef: string; weight?: number };

/** An EndpointPickerConfig with one profile (JSON is valid YAML). */
export function pickerConfig(plugins: PluginSpec[], refs: Ref[]): string {
  return [
    "apiVersion: inference.networking.x-k8s.io/v1alpha1",
    "kind: EndpointPickerConfig",
    `plugins: ${JSON.stringify(plugins)}`,
    `schedulingProfiles: ${JSON.stringify([{ name: "default", plugins: refs }])}`,
  ].join("\n");
}

/** Same number of ranked endpoints as the default profile (primary + 2 fallbacks). */
const MAX = { maxNumOfEndpoints: 3 };

export interface NamedConfig {
  name: string;
  /** undefined = no EndpointPickerConfig: the gateway's default profile. */
  yaml: string | undefined;
}

export const RANDOM: NamedConfig = {
  name: "random",
  yaml: pickerConfig([{ type: "random-picker", parameters: MAX }], [{ pluginRef: "random-picker" }]),
};

export const ROUND_ROBIN: NamedConfig = {
  name: "round-robin",
  yaml: pickerConfig(
    [{ type: "round-robin-picker", parameters: MAX }],
    [{ pluginRef: "round-robin-picker" }],
  ),
};

export const LOAD_ONLY: NamedConfig = {
  name: "load-only",
  yaml: pickerConfig(
    [
      { type: "queue-scorer" },
      { type: "kv-cache-utilization-scorer" },
      { type: "max-score-picker", parameters: MAX },
    ],
    [
      { pluginRef: "queue-scorer", weight: 2 },
      { pluginRef: "kv-cache-utilization-scorer", weight: 2 },
      { pluginRef: "max-score-picker" },
    ],
  ),
};

export const DEFAULT: NamedConfig = { name: "default", yaml: undefined };

/** The default profile spelled out, with max-score-picker parameters of our choice. */
export function defaultProfile(picker: Record<string, unknown>): string {
  return pickerConfig(
    [
      { type: "queue-scorer" },
      { type: "kv-cache-utilization-scorer" },
      { type: "prefix-cache-scorer" },
      { type: "max-score-picker", parameters: { ...MAX, ...picker } },
    ],
    [
      { pluginRef: "queue-scorer", weight: 2 },
      { pluginRef: "kv-cache-utilization-scorer", weight: 2 },
      { pluginRef: "prefix-cache-scorer", weight: 3 },
      { pluginRef: "max-score-picker" },
    ],
  );
}

/**
 * The default profile with the narrow tie band for new prefixes too
 * (`newPrefixTieEpsilon: 0.05`, as max-score-picker behaved before the wider band).
 */
export const DEFAULT_NARROW: NamedConfig = {
  name: "default-narrow",
  yaml: defaultProfile({ newPrefixTieEpsilon: 0.05 }),
};

/** The README's flow-control example, exactly as the README shows it (so a benchmark and the README cannot drift). */
export function readmeFlowConfig(): string {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const m =
    /```yaml\n(apiVersion: inference\.networking\.x-k8s\.io\/v1alpha1\nkind: EndpointPickerConfig\nfeatureGates: \[flowControl\][\s\S]*?)```/.exec(
      readme,
    );
  if (!m)
    throw new Error(
      "README.md: the flow-control example (EndpointPickerConfig with featureGates) was not found",
    );
  return m[1]!;
}

/**
 * The README's pool-first spillover route (an AIGatewayRoute: `llama-3-8b` on `llama-pool`,
 * spilling to the hosted `openai` backend), as written there, so the spillover benchmark
 * runs what users are told to write.
 */
export function readmeSpillRoute(): string {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const m =
    /```yaml\n(apiVersion: aigateway\.envoyproxy\.io\/v1beta1\nkind: AIGatewayRoute\n[\s\S]*?)```/.exec(
      readme,
    );
  if (!m) throw new Error("README.md: the spillover example (an AIGatewayRoute) was not found");
  return m[1]!;
}
