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

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  return JSON.stringify(value);
}

/** Turns the first valibot issue into a ConfigError; `prefix` names the document, e.g. `InferencePool/vllm-pool`. */
export function toConfigError(issues: readonly v.BaseIssue<unknown>[], prefix = ""): ConfigError {
  const first = issues[0];
  if (!first) return new ConfigError({ path: prefix, expected: "a valid document" });
  const path = [prefix, issuePath(first)].filter(Boolean).join(" ");
  return new ConfigError({ path, expected: first.message, received: describe(first.input) });
}
