import { describe, expect, test } from "bun:test";
import { parsePromText } from "../../src/datalayer/prom-text.ts";

/** Each malformed line sits between two good ones: it must be skipped, counted, and not disturb them. */
describe("parsePromText: malformed lines are skipped and counted", () => {
  const bad: [string, string][] = [
    ["no value", "m"],
    ["name then blank only", "m   "],
    ["value not a number", "m abc"],
    ["value with junk", "m 1x"],
    ["name starting with a digit", "1m 1"],
    ["junk instead of a name", "$$$ 1"],
    ["junk after the name", "m$ 1"],
    ["unterminated label set", 'm{a="x" 1'],
    ["unterminated quote", 'm{a="x} 1'],
    ["unquoted label value", "m{a=x} 1"],
    ["label without value", "m{a} 1"],
    ["label name starting with digit", 'm{1a="x"} 1'],
    ["colon in label name", 'm{a:b="x"} 1'],
    ["missing comma between labels", 'm{a="x" b="y"} 1'],
    ["double comma", 'm{a="x",,b="y"} 1'],
    ["no value after labels", 'm{a="x"}'],
    ["non-integer timestamp", "m 1 1.5"],
    ["timestamp junk", "m 1 abc"],
    ["extra token after timestamp", "m 1 2 3"],
    ["dangling backslash", 'm{a="x\\'],
  ];
  test.each(bad)("%s", (_, line) => {
    const text = `good 1\n${line}\ngood 2\n`;
    const { families, errors } = parsePromText(text);
    expect(errors).toBe(1);
    expect(families.get("good")?.map((s) => s.value)).toEqual([1, 2]);
    expect(families.size).toBe(1);
  });

  test("errors accumulate, parsing never throws", () => {
    const text = "a\nb x\nc{\nd 1\n}\n{}\n";
    expect(() => parsePromText(text)).not.toThrow();
    const r = parsePromText(text);
    expect(r.errors).toBe(5);
    expect(r.families.get("d")?.[0]?.value).toBe(1);
  });

  test("malformed lines of unwanted metrics are not counted", () => {
    expect(parsePromText("skipme{ 1\nkeep 1\n", new Set(["keep"])).errors).toBe(0);
  });

  test("large bodies parse whole (a quadratic parser would not finish within the test's limit)", () => {
    const lines: string[] = [];
    for (let i = 0; i < 50_000; i++) lines.push(`m{a="v${i}",b="x,y"} ${i}`);
    const r = parsePromText(lines.join("\n"));
    expect(r.families.get("m")).toHaveLength(50_000);
    expect(r.families.get("m")![49_999]).toMatchObject({ value: 49_999, labels: { a: "v49999", b: "x,y" } });
    expect(r.errors).toBe(0);
  });
});
