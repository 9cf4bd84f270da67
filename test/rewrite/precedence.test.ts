import { describe, expect, test } from "bun:test";
import { type InferenceModelRewrite, RewriteTable } from "../../src/rewrite/index.ts";
import { doc, scripted } from "./fixtures.ts";

const winner = (docs: readonly InferenceModelRewrite[], model: string) => {
  const d = RewriteTable.build(docs).resolve(model, scripted(0));
  return d && `${d.rewriteName}#${d.ruleIndex}->${d.targetModel}`;
};

describe("rewrite precedence", () => {
  test.each([
    {
      case: "exact beats generic within one resource, whatever the rule order",
      docs: [doc("a", [{ to: [["generic"]] }, { match: ["m"], to: [["exact"]] }])],
      model: "m",
      want: "a#1->exact",
    },
    {
      case: "exact in a newer resource beats a generic rule in an older one",
      docs: [
        doc("old", [{ to: [["generic"]] }], { created: "2024-01-01T00:00:00Z" }),
        doc("new", [{ match: ["m"], to: [["exact"]] }], { created: "2025-01-01T00:00:00Z" }),
      ],
      model: "m",
      want: "new#0->exact",
    },
    {
      case: "generic rule for a model without an exact match",
      docs: [doc("a", [{ match: ["m"], to: [["exact"]] }, { to: [["generic"]] }])],
      model: "other",
      want: "a#1->generic",
    },
    {
      case: "older creationTimestamp wins, regardless of document order (exact)",
      docs: [
        doc("new", [{ match: ["m"], to: [["n"]] }], { created: "2025-06-01T00:00:00Z" }),
        doc("old", [{ match: ["m"], to: [["o"]] }], { created: "2025-01-01T00:00:00Z" }),
      ],
      model: "m",
      want: "old#0->o",
    },
    {
      case: "older creationTimestamp wins (generic)",
      docs: [
        doc("new", [{ to: [["n"]] }], { created: "2025-06-01T00:00:00Z" }),
        doc("old", [{ to: [["o"]] }], { created: "2025-01-01T00:00:00Z" }),
      ],
      model: "anything",
      want: "old#0->o",
    },
    {
      case: "timestamps compare as instants, not strings (offsets)",
      docs: [
        doc("later", [{ match: ["m"], to: [["l"]] }], { created: "2025-01-01T01:30:00+02:00" }), // 23:30Z prev day
        doc("earlier", [{ match: ["m"], to: [["e"]] }], { created: "2024-12-31T22:00:00Z" }),
      ],
      model: "m",
      want: "earlier#0->e",
    },
    {
      case: "first matching rule in list order wins within a resource",
      docs: [
        doc("a", [
          { match: ["x", "m"], to: [["first"]] },
          { match: ["m"], to: [["second"]] },
        ]),
      ],
      model: "m",
      want: "a#0->first",
    },
    {
      case: "first generic rule in list order wins within a resource",
      docs: [doc("a", [{ to: [["first"]] }, { to: [["second"]] }])],
      model: "m",
      want: "a#0->first",
    },
    {
      case: "equal timestamps: document order decides",
      docs: [
        doc("zeta", [{ match: ["m"], to: [["z"]] }], { created: "2025-01-01T00:00:00Z" }),
        doc("alpha", [{ match: ["m"], to: [["a"]] }], { created: "2025-01-01T00:00:00Z" }),
      ],
      model: "m",
      want: "zeta#0->z",
    },
    {
      case: "a resource without a timestamp ranks after timestamped ones",
      docs: [
        doc("untimed", [{ match: ["m"], to: [["u"]] }]),
        doc("timed", [{ match: ["m"], to: [["t"]] }], { created: "2099-01-01T00:00:00Z" }),
      ],
      model: "m",
      want: "timed#0->t",
    },
    {
      case: "resources without timestamps: document order decides",
      docs: [doc("first", [{ to: [["f"]] }]), doc("second", [{ to: [["s"]] }])],
      model: "m",
      want: "first#0->f",
    },
    {
      case: "a later resource still wins models the earlier one does not match",
      docs: [
        doc("old", [{ match: ["m"], to: [["o"]] }], { created: "2024-01-01T00:00:00Z" }),
        doc("new", [{ match: ["m", "n"], to: [["x"]] }], { created: "2025-01-01T00:00:00Z" }),
      ],
      model: "n",
      want: "new#0->x",
    },
  ])("$case", ({ docs, model, want }) => {
    expect(winner(docs, model)).toBe(want);
  });

  test("stable: the same input gives the same table on every build", () => {
    const docs = Array.from({ length: 20 }, (_, i) =>
      doc(`r${i}`, [{ match: ["m", `only-${i}`], to: [[`t${i}`]] }], { created: "2025-01-01T00:00:00Z" }),
    );
    const first = RewriteTable.build(docs).aliases();
    for (let i = 0; i < 5; i++) expect(RewriteTable.build(docs).aliases()).toEqual(first);
    expect(winner(docs, "m")).toBe("r0#0->t0");
  });
});
