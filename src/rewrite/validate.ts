/**
 * Semantic checks the schema cannot express per field, shared by `parseRewrite` and
 * `RewriteTable.build` (so documents built in code get the same errors as YAML).
 *
 * Error paths read `InferenceModelRewrite/<name> spec.rules[i]...`; a namespace other than
 * `default` is spelled in: `InferenceModelRewrite/<namespace>/<name> ...`.
 */
import { ConfigError } from "../config/errors.ts";
import {
  DEFAULT_NAMESPACE,
  type InferenceModelRewrite,
  MAX_WEIGHT,
  MIN_WEIGHT,
  REWRITE_KIND,
} from "./schema.ts";

/** `InferenceModelRewrite/name` (or `.../namespace/name` outside `default`). */
export function resourceLabel(name: string, namespace?: string): string {
  const ns = namespace && namespace !== DEFAULT_NAMESPACE ? `${namespace}/` : "";
  return `${REWRITE_KIND}/${ns}${name}`;
}

/** Throws a ConfigError at `<resource> <path>`; `file` names the source when known. */
export function failAt(
  doc: InferenceModelRewrite,
  at: { path: string; expected: string; received?: unknown; file?: string | undefined },
): never {
  const { path, expected, received, file } = at;
  throw new ConfigError({
    path: `${resourceLabel(doc.metadata.name, doc.metadata.namespace)} ${path}`,
    expected,
    ...(file !== undefined ? { file } : {}),
    ...(received !== undefined ? { received: JSON.stringify(received) } : {}),
  });
}

const WEIGHT_RANGE = `an integer weight from ${MIN_WEIGHT} to ${MAX_WEIGHT}`;

/**
 * Throws ConfigError for: an empty target list, an empty target or match value, a match
 * type other than Exact, a weight out of range or not an integer, and a rule mixing
 * weighted and unweighted targets (the spec says all or none carry a weight).
 */
export function checkRewrite(doc: InferenceModelRewrite, file?: string): void {
  const fail = (path: string, expected: string, received?: unknown): never =>
    failAt(doc, { path, expected, received, file });
  doc.spec.rules.forEach((rule, r) => {
    const at = `spec.rules[${r}]`;
    rule.matches?.forEach((m, i) => {
      if (m.model.type !== undefined && m.model.type !== "Exact") {
        fail(`${at}.matches[${i}].model.type`, '"Exact" (the only supported match type)', m.model.type);
      }
      if (!m.model.value) fail(`${at}.matches[${i}].model.value`, "a model name (a non-empty string)");
    });
    if (rule.targets.length === 0) fail(`${at}.targets`, "at least one target {modelRewrite, weight?}");
    rule.targets.forEach((t, i) => {
      if (!t.modelRewrite)
        fail(`${at}.targets[${i}].modelRewrite`, "a target model name (a non-empty string)");
      const w = t.weight;
      if (w !== undefined && !(Number.isInteger(w) && w >= MIN_WEIGHT && w <= MAX_WEIGHT)) {
        fail(`${at}.targets[${i}].weight`, WEIGHT_RANGE, w);
      }
    });
    const weighted = rule.targets.filter((t) => t.weight !== undefined).length;
    if (weighted > 0 && weighted < rule.targets.length) {
      const i = rule.targets.findIndex((t) => t.weight === undefined);
      fail(
        `${at}.targets[${i}].weight`,
        `a weight on every target of the rule or on none (${weighted} of ${rule.targets.length} targets have one)`,
      );
    }
  });
}
