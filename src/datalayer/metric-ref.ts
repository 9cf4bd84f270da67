/** A metric name, optionally narrowed by labels. Strings may use `name{label=value,...}`. */
export type MetricRef = string | { name: string; labels?: Record<string, string> };

/** A parsed `MetricRef`: a series matches when every label pair is equal. */
export interface Selector {
  name: string;
  labels: [string, string][];
}

/**
 * Parses `name` or `name{a=b,c="d"}` (the GIE/llm-d spec strings). Values in this short
 * form cannot contain commas; use the object form for those. Throws on a malformed spec.
 */
export function parseMetricRef(ref: MetricRef): Selector {
  if (typeof ref !== "string") return { name: ref.name, labels: Object.entries(ref.labels ?? {}) };
  const spec = ref.trim();
  const open = spec.indexOf("{");
  if (open === -1) return { name: spec, labels: [] };
  if (!spec.endsWith("}")) throw new Error(`metric spec "${ref}": missing closing "}"`);
  const labels: [string, string][] = [];
  for (const part of spec.slice(open + 1, -1).split(",")) {
    if (part.trim() === "") continue;
    const eq = part.indexOf("=");
    if (eq <= 0) throw new Error(`metric spec "${ref}": expected label=value, got "${part.trim()}"`);
    const value = part.slice(eq + 1).trim();
    const quoted = value.length >= 2 && value.startsWith('"') && value.endsWith('"');
    labels.push([part.slice(0, eq).trim(), quoted ? value.slice(1, -1) : value]);
  }
  return { name: spec.slice(0, open).trim(), labels };
}
