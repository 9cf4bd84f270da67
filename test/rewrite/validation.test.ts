import { describe, expect, test } from "bun:test";
import { ConfigError } from "../../src/config/errors.ts";
import { parseRewrite, RewriteTable } from "../../src/rewrite/index.ts";
import { doc, raw } from "./fixtures.ts";

const rule = (targets: unknown, matches: unknown = [{ model: { value: "opt-stable" } }]) => ({
  poolRef: { name: "vllm-pool" },
  rules: [
    { matches: [{ model: { value: "other" } }], targets: [{ modelRewrite: "x" }] },
    { matches, targets },
  ],
});

function caught(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("parseRewrite errors name the resource, rule and field", () => {
  const R = "InferenceModelRewrite/opt-canary spec.rules[1]";
  test.each([
    {
      case: "mixed weighted and unweighted targets",
      input: raw({ spec: rule([{ modelRewrite: "a", weight: 5 }, { modelRewrite: "b" }]) }),
      path: `${R}.targets[1].weight`,
      expected: "a weight on every target of the rule or on none",
    },
    ...[0, 1_000_001, 1.5, -3].map((weight) => ({
      case: `weight ${weight}`,
      input: raw({
        spec: rule([
          { modelRewrite: "a", weight: 1 },
          { modelRewrite: "b", weight },
        ]),
      }),
      path: `${R}.targets[1].weight`,
      expected: "an integer weight from 1 to 1000000",
    })),
    {
      case: "weight as a string",
      input: raw({ spec: rule([{ modelRewrite: "a", weight: "90" }]) }),
      path: `${R}.targets[0].weight`,
      expected: "an integer weight from 1 to 1000000",
    },
    {
      case: "empty targets",
      input: raw({ spec: rule([]) }),
      path: `${R}.targets`,
      expected: "at least one target",
    },
    {
      case: "missing targets",
      input: raw({ spec: { poolRef: { name: "p" }, rules: [{}] } }),
      path: "InferenceModelRewrite/opt-canary spec.rules[0].targets",
      expected: "required: a list of at least one target",
    },
    {
      case: "empty modelRewrite",
      input: raw({ spec: rule([{ modelRewrite: "" }]) }),
      path: `${R}.targets[0].modelRewrite`,
      expected: "a target model name (a non-empty string)",
    },
    {
      case: "missing poolRef",
      input: raw({ spec: { rules: [] } }),
      path: "InferenceModelRewrite/opt-canary spec.poolRef",
      expected: "required: a poolRef",
    },
    {
      case: "bad match type",
      input: raw({ spec: rule([{ modelRewrite: "a" }], [{ model: { type: "Prefix", value: "opt" } }]) }),
      path: `${R}.matches[0].model.type`,
      expected: '"Exact" (the only supported match type)',
    },
    {
      case: "empty match value",
      input: raw({ spec: rule([{ modelRewrite: "a" }], [{ model: { value: "" } }]) }),
      path: `${R}.matches[0].model.value`,
      expected: "a model name (a non-empty string)",
    },
    {
      case: "unknown apiVersion",
      input: raw({ apiVersion: "inference.networking.x-k8s.io/v1alpha1" }),
      path: "InferenceModelRewrite/opt-canary apiVersion",
      expected: "one of inference.networking.x-k8s.io/v1alpha2, llm-d.ai/v1alpha2",
    },
    {
      case: "wrong kind",
      input: raw({ kind: "InferenceObjective" }),
      path: "InferenceModelRewrite/opt-canary kind",
      expected: '"InferenceModelRewrite"',
    },
    {
      case: "bad creationTimestamp",
      input: raw({ metadata: { name: "opt-canary", creationTimestamp: "yesterday" } }),
      path: "InferenceModelRewrite/opt-canary metadata.creationTimestamp",
      expected: "an RFC 3339 timestamp",
    },
    {
      case: "missing name (no resource prefix)",
      input: raw({ metadata: {} }),
      path: "metadata.name",
      expected: "required: a name",
    },
    {
      case: "non-default namespace is spelled in",
      input: raw({ metadata: { name: "opt-canary", namespace: "team-a" }, spec: rule([]) }),
      path: "InferenceModelRewrite/team-a/opt-canary spec.rules[1].targets",
      expected: "at least one target",
    },
    { case: "not an object", input: "hello", path: "", expected: "an InferenceModelRewrite object" },
  ])("$case", ({ input, path, expected }) => {
    const err = caught(() => parseRewrite(input));
    expect(err.path).toBe(path);
    expect(err.expected).toContain(expected);
  });

  test("`where` becomes the file, and the message keeps what was received", () => {
    const err = caught(() =>
      parseRewrite(raw({ spec: rule([{ modelRewrite: "a", weight: 0 }]) }), "rewrites.yaml"),
    );
    expect(err.file).toBe("rewrites.yaml");
    expect(err.message).toBe(
      "rewrites.yaml: InferenceModelRewrite/opt-canary spec.rules[1].targets[0].weight: " +
        "an integer weight from 1 to 1000000 (got 0)",
    );
  });
});

describe("RewriteTable.build validates typed documents too", () => {
  test.each([
    {
      case: "mixed weights",
      docs: [
        doc("split", [
          { match: ["a"], to: [["x"]] },
          { match: ["b"], to: [["x", 3], ["y"]] },
        ]),
      ],
      path: "InferenceModelRewrite/split spec.rules[1].targets[1].weight",
    },
    ...[0, 1_000_001, 1.5].map((w) => ({
      case: `weight ${w}`,
      docs: [
        doc("split", [
          {
            match: ["a"],
            to: [
              ["x", 1],
              ["y", w],
            ],
          },
        ]),
      ],
      path: "InferenceModelRewrite/split spec.rules[0].targets[1].weight",
    })),
    {
      case: "empty targets",
      docs: [doc("split", [{ match: ["a"], to: [] }])],
      path: "InferenceModelRewrite/split spec.rules[0].targets",
    },
    {
      case: "duplicate name in one namespace",
      docs: [doc("dup", [{ to: [["x"]] }]), doc("dup", [{ to: [["y"]] }])],
      path: "InferenceModelRewrite/dup metadata.name",
    },
    {
      case: "unparseable creationTimestamp",
      docs: [doc("old", [{ to: [["x"]] }], { created: "not a time" })],
      path: "InferenceModelRewrite/old metadata.creationTimestamp",
    },
  ])("$case", ({ docs, path }) => {
    expect(caught(() => RewriteTable.build(docs)).path).toBe(path);
  });

  test("the same name in two namespaces is fine", () => {
    const docs = [doc("same", [{ to: [["x"]] }]), doc("same", [{ to: [["y"]] }], { namespace: "team-b" })];
    expect(() => RewriteTable.build(docs)).not.toThrow();
  });
});
