import { parse as parseYaml } from "yaml";
import { ConfigError } from "./errors.ts";

/**
 * GIE's body-based router maps LoRA adapters to their base model from ConfigMaps labelled
 * `inference.networking.k8s.io/bbr-managed: "true"` (`data.baseModel`, and `data.adapters`,
 * a YAML list in a string), so the HTTPRoute of the base model's pool receives requests that
 * name only an adapter, before any pod has loaded it. The same ConfigMaps, pasted into the
 * config file, do that here: the route stage falls back to the base model's pool, and the
 * candidates stage to the pods serving the base model.
 */
export const BBR_LABEL = "inference.networking.k8s.io/bbr-managed";

/** True for a ConfigMap document BBR would read. */
export function isBbrConfigMap(doc: Record<string, unknown>): boolean {
  const labels = (doc["metadata"] as { labels?: Record<string, unknown> } | undefined)?.labels;
  return labels?.[BBR_LABEL] === "true";
}

/** Adds one BBR ConfigMap's adapters to `into` (adapter → base model). */
export function readBbrConfigMap(
  doc: Record<string, unknown>,
  where: string,
  into: Map<string, string>,
): void {
  const data = doc["data"] as Record<string, unknown> | undefined;
  const base = data?.["baseModel"];
  if (typeof base !== "string" || base === "")
    throw new ConfigError({ path: `${where} data.baseModel`, expected: "the base model's name (a string)" });
  const raw = data?.["adapters"];
  let adapters: unknown = [];
  if (raw !== undefined) {
    if (typeof raw !== "string")
      throw new ConfigError({
        path: `${where} data.adapters`,
        expected: "a YAML list of adapter names, in a string",
      });
    try {
      adapters = parseYaml(raw) ?? [];
    } catch {
      adapters = undefined;
    }
  }
  if (!Array.isArray(adapters) || adapters.some((a) => typeof a !== "string" || a === ""))
    throw new ConfigError({
      path: `${where} data.adapters`,
      expected: 'a YAML list of adapter names, e.g. "- ski-resorts\\n- movie-critique"',
    });
  for (const adapter of adapters as string[]) {
    const known = into.get(adapter);
    if (known !== undefined && known !== base)
      throw new ConfigError({
        path: `${where} data.adapters`,
        expected: `each adapter under one base model: '${adapter}' is already listed under '${known}'`,
      });
    into.set(adapter, base);
  }
}
