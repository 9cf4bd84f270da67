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

describe("ModelLabelCap.of remembers its answers by the names given", () => {
  test("the same names give the same interned pair; a name accepted or pinned later changes the answer", () => {
    const labels = new ModelLabelCap();
    const before = labels.of("alias", "m");
    expect(labels.of("alias", "m")).toBe(before);
    expect(before).toEqual({ model_name: "unknown", target_model_name: "unknown" });
    labels.accept("m", "m");
    expect(labels.of("alias", "m")).toEqual({ model_name: "unknown", target_model_name: "m" });
    labels.pin(["alias"]);
    expect(labels.of("alias", "m")).toEqual({ model_name: "alias", target_model_name: "m" });
    labels.accept("other-alias", "m");
    expect(labels.of("other-alias", "m")).toEqual({ model_name: "other-alias", target_model_name: "m" });
  });

  test("answers agree with a fresh cap fed the same calls, over many names (the memory is bounded)", () => {
    const cached = new ModelLabelCap(30, 60);
    const fresh = () => new ModelLabelCap(30, 60);
    const calls: [string, string, boolean][] = [];
    let seed = 3;
    for (let i = 0; i < 30_000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      calls.push([`n${seed % 97}`, `t${seed % 5}`, seed % 7 === 0]);
    }
    // The reference: every answer recomputed by a cap that never reuses one (a new key each call).
    const reference = fresh();
    for (const [m, t, acc] of calls) {
      if (acc) {
        cached.accept(m, t);
        reference.accept(m, t);
      }
      const got = cached.of(m, t);
      const want = (reference as unknown as { pairOf(a: string, b: string): unknown }).pairOf(m, t);
      expect(got).toEqual(want as typeof got);
    }
  });
});
