import { describe, expect, test } from "bun:test";
import { parse } from "yaml";
import { parseRewrite, REWRITE_API_VERSIONS } from "../../src/rewrite/index.ts";
import { raw, USER_GUIDE_YAML } from "./fixtures.ts";

describe("InferenceModelRewrite schema", () => {
  test.each([...REWRITE_API_VERSIONS])("accepts the user-guide YAML for %s", (apiVersion) => {
    const doc = parseRewrite(parse(USER_GUIDE_YAML(apiVersion)));
    expect(doc).toEqual({
      apiVersion,
      kind: "InferenceModelRewrite",
      metadata: { name: "opt-canary", namespace: "default", creationTimestamp: "2025-01-01T00:00:00Z" },
      spec: {
        poolRef: { group: "inference.networking.k8s.io", kind: "InferencePool", name: "vllm-pool" },
        rules: [
          {
            matches: [{ model: { type: "Exact", value: "opt-stable" } }],
            targets: [
              { modelRewrite: "facebook/opt-125m", weight: 90 },
              { modelRewrite: "facebook/opt-125m-canary", weight: 10 },
            ],
          },
        ],
      },
    });
  });

  test("drops unknown fields (status, labels, annotations)", () => {
    const doc = parseRewrite(parse(USER_GUIDE_YAML("llm-d.ai/v1alpha2"))) as unknown as Record<
      string,
      unknown
    >;
    expect(doc["status"]).toBeUndefined();
    expect(Object.keys(doc["metadata"] as object).sort()).toEqual(["creationTimestamp", "name", "namespace"]);
  });

  test("applies defaults: namespace, poolRef group/kind, match type, missing matches", () => {
    const doc = parseRewrite(
      raw({ spec: { poolRef: { name: "p" }, rules: [{ targets: [{ modelRewrite: "m" }] }] } }),
    );
    expect(doc.metadata).toEqual({ name: "opt-canary", namespace: "default" });
    expect(doc.spec.poolRef).toEqual({
      group: "inference.networking.k8s.io",
      kind: "InferencePool",
      name: "p",
    });
    expect(doc.spec.rules[0]?.matches).toEqual([]);
    const exact = parseRewrite(raw());
    expect(exact.spec.rules[0]?.matches[0]?.model.type).toBe("Exact");
  });

  test("normalizes a Date creationTimestamp (YAML 1.1 loaders) to an ISO string", () => {
    const doc = parseRewrite(
      raw({ metadata: { name: "x", creationTimestamp: new Date("2025-01-02T03:04:05Z") } }),
    );
    expect(doc.metadata.creationTimestamp).toBe("2025-01-02T03:04:05.000Z");
  });

  test("parses an unquoted timestamp as YAML 1.2 leaves it (a string)", () => {
    const text = USER_GUIDE_YAML("llm-d.ai/v1alpha2").replace(
      '"2025-01-01T00:00:00Z"',
      "2025-01-01T00:00:00Z",
    );
    expect(parseRewrite(parse(text)).metadata.creationTimestamp).toBe("2025-01-01T00:00:00Z");
  });
});
