/**
 * Unknown fields in config documents are errors, as kubectl's strict field validation
 * makes them: a typo such as `wieght` must not load as "no weight". The check walks the
 * document beside the valibot schema that validates it (object entries, optional,
 * arrays, records, unions), so the list of known fields never drifts from the schema.
 * Kubernetes documents may carry the standard object metadata and a `status` block
 * (documents copied from a cluster keep loading).
 */
import type * as v from "valibot";
import { ConfigError } from "./errors.ts";

/** Object metadata fields kubectl accepts on any resource. */
export const STANDARD_METADATA = [
  "name",
  "generateName",
  "namespace",
  "selfLink",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "labels",
  "annotations",
  "ownerReferences",
  "finalizers",
  "managedFields",
] as const;

/** Fields a document may carry besides its schema's: by dotted path, `""` for the top level. */
export type Allowed = Readonly<Record<string, readonly string[]>>;

/** What Kubernetes-style documents may carry besides their spec. */
export const KUBERNETES_EXTRAS: Allowed = { "": ["status"], metadata: STANDARD_METADATA };

interface Found {
  path: string;
  key: string;
  known: string[];
}

type Node = {
  type?: string;
  entries?: Record<string, Node>;
  wrapped?: Node;
  item?: Node;
  value?: Node;
  options?: Node[];
};

const WRAPPERS = new Set([
  "optional",
  "nullable",
  "nullish",
  "exact_optional",
  "undefinedable",
  "non_optional",
  "non_nullable",
  "non_nullish",
]);
const OBJECTS = new Set(["object", "loose_object", "strict_object"]);

const join = (path: string, key: string | number) =>
  typeof key === "number" ? `${path}[${key}]` : path ? `${path}.${key}` : key;
/** The path without list indexes, as `Allowed` names it. */
const shape = (path: string) => path.replace(/\[\d+\]/g, "");

function find(value: unknown, node: Node, path: string, allowed: Allowed): Found | undefined {
  if (node.type && WRAPPERS.has(node.type) && node.wrapped) return find(value, node.wrapped, path, allowed);
  if (value === null || typeof value !== "object") return undefined;
  if (node.type === "array" && node.item && Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const f = find(item, node.item, join(path, i), allowed);
      if (f) return f;
    }
    return undefined;
  }
  if (node.type === "record" && node.value && !Array.isArray(value)) {
    for (const [k, item] of Object.entries(value)) {
      const f = find(item, node.value, join(path, k), allowed);
      if (f) return f;
    }
    return undefined;
  }
  if ((node.type === "union" || node.type === "variant") && node.options) {
    const found = node.options.map((o) => find(value, o, path, allowed));
    return found.some((f) => f === undefined) ? undefined : found[0];
  }
  if (!node.type || !OBJECTS.has(node.type) || !node.entries || Array.isArray(value)) return undefined;
  const entries = node.entries;
  const extra = allowed[shape(path)] ?? [];
  for (const [k, item] of Object.entries(value)) {
    const child = entries[k];
    if (child) {
      const f = find(item, child, join(path, k), allowed);
      if (f) return f;
    } else if (!extra.includes(k)) {
      return { path, key: k, known: [...Object.keys(entries), ...extra] };
    }
  }
  return undefined;
}

/**
 * Throws a ConfigError for the first field of `doc` that `schema` does not know, naming
 * the document (`where`), the field path, a near miss ("did you mean") and the fields
 * known there.
 */
export function rejectUnknownFields(
  doc: unknown,
  schema: v.GenericSchema,
  where: string,
  allowed: Allowed = {},
): void {
  const found = find(doc, schema as unknown as Node, "", allowed);
  if (!found) return;
  const { path, key, known } = found;
  const guess = closest(key, known);
  const fields = [...new Set(known)].sort().join(", ");
  throw new ConfigError({
    path: [where, join(path, key)].filter(Boolean).join(" "),
    expected: `unknown field "${key}"${guess ? ` (did you mean "${guess}"?)` : ""}; the fields here are ${fields}`,
  });
}

/** The known name nearest to `word` when it is a plausible typo of it (small edit distance), else undefined. */
export function closest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const lower = word.toLowerCase();
  for (const k of known) {
    const d = distance(lower, k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  const limit = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  return bestDistance <= limit ? best : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
export function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  return d[a.length]![b.length]!;
}
