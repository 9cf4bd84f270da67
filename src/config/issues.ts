import type * as v from "valibot";
import { ConfigError } from "./errors.ts";

/** Dotted path of a valibot issue, e.g. `spec.rules[0].targets[1].weight`. */
export function issuePath(issue: v.BaseIssue<unknown>): string {
  let out = "";
  for (const item of issue.path ?? []) {
    const key = (item as { key?: unknown }).key;
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** A value as an error message shows it: short, and never the library's wording. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

const TYPES: Record<string, string> = {
  number: "a number",
  string: "a string",
  boolean: "true or false",
  array: "a list",
  object: "a mapping (field: value)",
  loose_object: "a mapping (field: value)",
  strict_object: "a mapping (field: value)",
  record: "a mapping of names to values",
  date: "a date",
  integer: "a whole number",
  finite: "a finite number",
};

/**
 * What a valibot issue says was expected, in the gateway's words. Messages the schemas
 * wrote themselves (anything not starting with valibot's "Invalid ") are kept as they are.
 */
export function expectedOf(issue: v.BaseIssue<unknown>): string {
  if (!issue.message.startsWith("Invalid ")) return issue.message;
  const requirement = (issue as { requirement?: unknown }).requirement;
  const expected = issue.expected ?? "";
  const isList = Array.isArray(issue.input);
  switch (issue.type) {
    case "picklist":
    case "literal":
    case "enum":
      return `one of ${expected.replace(/^\((.*)\)$/, "$1").replaceAll(" | ", ", ")}`;
    case "min_value":
      return `a value of at least ${String(requirement)}`;
    case "max_value":
      return `a value of at most ${String(requirement)}`;
    case "min_length":
      return `at least ${String(requirement)} ${isList ? "entries" : "characters"}`;
    case "max_length":
      return `at most ${String(requirement)} ${isList ? "entries" : "characters"}`;
    case "regex":
      return `text matching ${String(requirement)}`;
    case "union":
    case "variant":
      return "one of the accepted forms of this field";
    default:
      return TYPES[issue.type] ?? `a valid ${issue.type.replaceAll("_", " ")}`;
  }
}

/** True when an issue is a required field that is missing. */
function isMissing(issue: v.BaseIssue<unknown>): boolean {
  const last = issue.path?.at(-1) as { key?: unknown; value?: unknown } | undefined;
  return (
    issue.kind === "schema" && issue.input === undefined && last !== undefined && last.value === undefined
  );
}

/** Turns the first valibot issue into a ConfigError; `prefix` names the document, e.g. `InferencePool/vllm-pool`. */
export function toConfigError(issues: readonly v.BaseIssue<unknown>[], prefix = ""): ConfigError {
  const first = issues[0];
  if (!first) return new ConfigError({ path: prefix, expected: "a valid document" });
  const path = [prefix, issuePath(first)].filter(Boolean).join(" ");
  if (isMissing(first)) return new ConfigError({ path, expected: "a value: this field is required" });
  const last = first.path?.at(-1)?.key;
  if (first.expected === "never" && typeof last === "string")
    return new ConfigError({ path, expected: `no field "${last}" here (unknown field)` });
  // Issues raised by custom checks may not carry the input; then say nothing about it.
  if (first.input === undefined) return new ConfigError({ path, expected: expectedOf(first) });
  return new ConfigError({ path, expected: expectedOf(first), received: describeValue(first.input) });
}
