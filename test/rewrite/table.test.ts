import { describe, expect, test } from "bun:test";
import { parse } from "yaml";
import { parseRewrite, RewriteTable } from "../../src/rewrite/index.ts";
import { doc, scripted, USER_GUIDE_YAML } from "./fixtures.ts";

describe("RewriteTable lookups", () => {
  const table = RewriteTable.build([
    doc("newer", [{ match: ["chat", "code"], to: [["llama-70b"]] }], { created: "2025-06-01T00:00:00Z" }),
    doc(
      "older",
      [
        {
          match: ["chat"],
          to: [
            ["qwen-7b", 1],
            ["qwen-14b", 3],
          ],
        },
      ],
      { created: "2025-01-01T00:00:00Z" },
    ),
    doc("untimed", [{ match: ["code"], to: [["never"]] }, { to: [["fallback"]] }]),
  ]);

  test("resolve of an unmatched model without a generic rule is undefined", () => {
    const exactOnly = RewriteTable.build([doc("r", [{ match: ["m"], to: [["x"]] }])]);
    expect(exactOnly.resolve("unknown", scripted(0))).toBeUndefined();
    expect(RewriteTable.empty().resolve("m", scripted(0))).toBeUndefined();
  });

  test("resolve returns the resource name, rule index and target", () => {
    expect(table.resolve("chat", scripted(0.9))).toEqual({
      rewriteName: "older",
      ruleIndex: 0,
      targetModel: "qwen-14b",
    });
    expect(table.resolve("unknown", scripted(0))).toEqual({
      rewriteName: "untimed",
      ruleIndex: 1,
      targetModel: "fallback",
    });
  });

  test("aliases(): each exact model once, with its winning resource, in precedence order", () => {
    expect(table.aliases()).toEqual([
      {
        model: "chat",
        rewriteName: "older",
        creationTimestamp: "2025-01-01T00:00:00Z",
        targets: ["qwen-7b", "qwen-14b"],
        shares: [0.25, 0.75],
      },
      {
        model: "code",
        rewriteName: "newer",
        creationTimestamp: "2025-06-01T00:00:00Z",
        targets: ["llama-70b"],
        shares: [1],
      },
    ]);
  });

  test("targets(): every target a reachable rule can produce; shadowed rules add none", () => {
    expect([...table.targets()].sort()).toEqual(["fallback", "llama-70b", "qwen-14b", "qwen-7b"]);
  });

  test("empty table", () => {
    const empty = RewriteTable.empty();
    expect(empty.aliases()).toEqual([]);
    expect(empty.targets().size).toBe(0);
  });

  test("end to end from the user-guide YAML", () => {
    const guide = RewriteTable.build([parseRewrite(parse(USER_GUIDE_YAML("llm-d.ai/v1alpha2")))]);
    expect(guide.aliases()).toEqual([
      {
        model: "opt-stable",
        rewriteName: "opt-canary",
        creationTimestamp: "2025-01-01T00:00:00Z",
        targets: ["facebook/opt-125m", "facebook/opt-125m-canary"],
        shares: [0.9, 0.1],
      },
    ]);
    expect(guide.resolve("opt-stable", scripted(0.95))?.targetModel).toBe("facebook/opt-125m-canary");
    expect(guide.resolve("facebook/opt-125m", scripted(0))).toBeUndefined();
  });
});
