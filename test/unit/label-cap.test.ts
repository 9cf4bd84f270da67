import { describe, expect, test } from "bun:test";
import { LabelCap, MAX_LABEL_LENGTH, ModelLabelCap } from "../../src/metrics/label-cap.ts";

describe("LabelCap", () => {
  test("keeps the first values, then `other`; a value seen before keeps its own label", () => {
    const cap = new LabelCap(2);
    expect(["a", "b", "c", "a"].map((v) => cap.value(v))).toEqual(["a", "b", "other", "a"]);
  });

  test("a value longer than the length cap is `other` and does not use up the count", () => {
    const cap = new LabelCap(1);
    expect(cap.value("x".repeat(MAX_LABEL_LENGTH + 1))).toBe("other");
    expect(cap.value("x".repeat(MAX_LABEL_LENGTH))).toBe("x".repeat(MAX_LABEL_LENGTH));
  });
});

describe("ModelLabelCap", () => {
  test("a name never accepted labels as `unknown`; once accepted, as itself", () => {
    const labels = new ModelLabelCap();
    expect(labels.of("m", "m")).toEqual({ model_name: "unknown", target_model_name: "unknown" });
    labels.accept("m", "m");
    expect(labels.of("m", "m")).toEqual({ model_name: "m", target_model_name: "m" });
    expect(labels.of("m", "")).toEqual({ model_name: "m", target_model_name: "" });
  });

  test("a name over the length cap is never its own label, accepted or not", () => {
    const labels = new ModelLabelCap();
    const huge = "h".repeat(1 << 20);
    expect(labels.of(huge, "")).toEqual({ model_name: "unknown", target_model_name: "" });
    labels.accept(huge, "m");
    expect(labels.of(huge, "m")).toEqual({ model_name: "unknown", target_model_name: "m" });
  });

  test("accepted names are capped in number, and so are distinct pairs", () => {
    const labels = new ModelLabelCap(10, 20);
    const names = Array.from({ length: 50 }, (_, i) => `n${i}`);
    for (const n of names) labels.accept(n, "");
    const pairs = new Set<string>();
    for (const a of names)
      for (const b of names) {
        const l = labels.of(a, b);
        pairs.add(`${l.model_name}/${l.target_model_name}`);
      }
    // 20 pairs of their own plus the one overflow pair.
    expect(pairs.size).toBe(21);
    expect(pairs.has("other/other")).toBe(true);
  });

  test("a served name is pinned: a flood of accepted aliases cannot push it into `other`", () => {
    const labels = new ModelLabelCap(10);
    for (let i = 0; i < 50; i++) {
      labels.accept(`alias-${i}`, "served");
      labels.of(`alias-${i}`, "served");
    }
    expect(labels.of("alias-49", "served")).toEqual({ model_name: "other", target_model_name: "served" });
    labels.accept("served", "served");
    expect(labels.of("served", "served")).toEqual({ model_name: "served", target_model_name: "served" });
  });

  test("a pinned (configured) alias keeps its own label after the cap filled", () => {
    const labels = new ModelLabelCap(10);
    labels.pin(["alias"]);
    for (let i = 0; i < 50; i++) {
      labels.accept(`scan-${i}`, "served");
      labels.of(`scan-${i}`, "served");
    }
    expect(labels.of("alias", "served").model_name).toBe("alias");
    expect(labels.of("scan-49", "served").model_name).toBe("other");
  });

  test("the same pair gives the same frozen object (running gauge inc and dec agree)", () => {
    const labels = new ModelLabelCap();
    labels.accept("m", "t");
    expect(labels.of("m", "t")).toBe(labels.of("m", "t"));
    expect(Object.isFrozen(labels.of("m", "t"))).toBe(true);
  });
});
