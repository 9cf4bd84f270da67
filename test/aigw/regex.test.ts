import { describe, expect, test } from "bun:test";
import { headerTest } from "../../src/aigw/match.ts";
import { ConfigError } from "../../src/config/errors.ts";

const regex = (value: string) => headerTest({ type: "RegularExpression", name: "X-User", value }, "r");

describe("RegularExpression header matches run in linear time, with RE2's syntax (as Envoy's safe_regex)", () => {
  test("a catastrophic-backtracking pattern from the config answers at once on a long client header", () => {
    // A backtracking engine takes 2^n steps here: at n = 40 it would not return for hours.
    const t = regex("(a+)+$");
    expect(t.test(`${"a".repeat(40)}!`)).toBe(false);
    expect(t.test(`${"a".repeat(60_000)}!`)).toBe(false);
    expect(t.test("a".repeat(60_000))).toBe(true);
    expect(regex("(x|x)*y").test("x".repeat(60_000))).toBe(false);
  });

  test("the whole value must match; long values are matched, not skipped", () => {
    const t = regex("gpt-4.*");
    expect(t.test("gpt-4o-mini")).toBe(true);
    expect(t.test("my-gpt-4o")).toBe(false);
    expect(regex("gpt-4|llama").test("gpt-4o")).toBe(false);
    expect(regex(".*").test("v".repeat(20_000))).toBe(true);
  });

  test("syntax RE2 does not have (backreferences, lookaround) is refused at load, naming the field", () => {
    for (const bad of ["(a)\\1", "(?=a)a", "(?<!b)a", "a("]) {
      let err: unknown;
      try {
        regex(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect(String((err as Error).message)).toContain("r.value");
      expect(String((err as Error).message)).toContain("RE2");
    }
  });
});
