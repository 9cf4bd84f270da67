/** YAML-shaped input -> a validated InferenceModelRewrite, or a ConfigError a user can act on. */
import * as v from "valibot";
import { ConfigError } from "../config/errors.ts";
import { issuePath } from "../config/issues.ts";
import { type InferenceModelRewrite, InferenceModelRewriteSchema } from "./schema.ts";
import { checkRewrite, resourceLabel } from "./validate.ts";

/** What a missing required field should have held, by key. */
const REQUIRED: Record<string, string> = {
  apiVersion: "an apiVersion",
  kind: 'kind "InferenceModelRewrite"',
  metadata: "metadata {name, namespace?}",
  name: "a name",
  spec: "a spec {poolRef, rules}",
  poolRef: "a poolRef {group?, kind?, name} naming the InferencePool",
  rules: "a list of rules {matches?, targets}",
  targets: "a list of at least one target {modelRewrite, weight?}",
  model: "a model match {type?: Exact, value}",
  value: "a model name",
  modelRewrite: "a target model name",
};

function nameOf(doc: unknown): { name: string; namespace?: string } | undefined {
  if (typeof doc !== "object" || doc === null) return undefined;
  const meta = (doc as { metadata?: unknown }).metadata;
  if (typeof meta !== "object" || meta === null) return undefined;
  const { name, namespace } = meta as { name?: unknown; namespace?: unknown };
  if (typeof name !== "string" || name === "") return undefined;
  return typeof namespace === "string" ? { name, namespace } : { name };
}

function toConfigError(doc: unknown, issue: v.BaseIssue<unknown>, where?: string): ConfigError {
  const field = issuePath(issue);
  const id = nameOf(doc);
  const path = id ? `${resourceLabel(id.name, id.namespace)} ${field}`.trimEnd() : field;
  const last = issue.path?.at(-1)?.key;
  const missing = issue.kind === "schema" && issue.input === undefined && typeof last === "string";
  const expected = missing ? `required: ${REQUIRED[last] ?? "a value"}` : issue.message;
  return new ConfigError({
    path,
    expected,
    ...(where !== undefined ? { file: where } : {}),
    ...(missing ? {} : { received: issue.received }),
  });
}

/**
 * Validates one document (already parsed from YAML/JSON) against the InferenceModelRewrite
 * schema plus the semantic checks, returning it with defaults applied. Unknown fields are
 * dropped. Throws ConfigError for the first problem; `where` (a file name or other source
 * label) becomes `ConfigError.file`. The path is prefixed with `InferenceModelRewrite/<name>`
 * when `metadata.name` is readable.
 */
export function parseRewrite(doc: unknown, where?: string): InferenceModelRewrite {
  const result = v.safeParse(InferenceModelRewriteSchema, doc);
  if (!result.success) throw toConfigError(doc, result.issues[0], where);
  checkRewrite(result.output, where);
  return result.output;
}
