import { describe, expect, test } from "bun:test";
import { BUILTIN_ENGINES, wantedMetrics } from "../../src/datalayer/engines.ts";
import { parsePromText, type Sample } from "../../src/datalayer/prom-text.ts";
import { VLLM_METRICS } from "./fixtures/vllm.ts";

function only(text: string): Sample {
  const { families, errors } = parsePromText(text);
  expect(errors).toBe(0);
  const all = [...families.values()].flat();
  expect(all).toHaveLength(1);
  return all[0]!;
}

describe("parsePromText: values", () => {
  const cases: [string, string, number][] = [
    ["integer", "m 42", 42],
    ["float", "m 0.4213", 0.4213],
    ["negative", "m -3.5", -3.5],
    ["scientific", "m 1.7318451301e+09", 1731845130.1],
    ["scientific, small", "m 2.5E-3", 0.0025],
    ["leading plus", "m +7", 7],
    ["+Inf", "m +Inf", Number.POSITIVE_INFINITY],
    ["-Inf", "m -Inf", Number.NEGATIVE_INFINITY],
    ["Inf without sign", "m Inf", Number.POSITIVE_INFINITY],
    ["lower-case inf", "m +inf", Number.POSITIVE_INFINITY],
  ];
  test.each(cases)("%s", (_, line, want) => {
    expect(only(line).value).toBe(want);
  });

  test.each(["NaN", "nan", "NAN"])("NaN spelled %s", (v) => {
    expect(Number.isNaN(only(`m ${v}`).value)).toBe(true);
  });
});

describe("parsePromText: names and labels", () => {
  const cases: [string, string, string, Record<string, string>][] = [
    ["colons in name", "vllm:num_requests_waiting 1", "vllm:num_requests_waiting", {}],
    ["leading colon", ":weird:name 1", ":weird:name", {}],
    ["empty label set", "m{} 1", "m", {}],
    ["one label", 'm{a="x"} 1', "m", { a: "x" }],
    ["trailing comma", 'm{a="x",b="y",} 1', "m", { a: "x", b: "y" }],
    ["comma inside value", 'm{running="a,b,c"} 1', "m", { running: "a,b,c" }],
    ["brace and equals inside value", 'm{q="{x=1}"} 1', "m", { q: "{x=1}" }],
    ["escaped quote", 'm{a="say \\"hi\\""} 1', "m", { a: 'say "hi"' }],
    ["escaped backslash", 'm{path="C:\\\\dir"} 1', "m", { path: "C:\\dir" }],
    ["escaped newline", 'm{a="l1\\nl2"} 1', "m", { a: "l1\nl2" }],
    ["escape first and last", 'm{a="\\\\x\\""} 1', "m", { a: '\\x"' }],
    ["unknown escape kept", 'm{a="\\t"} 1', "m", { a: "\\t" }],
    ["empty value", 'm{a=""} 1', "m", { a: "" }],
    ["unicode value", 'm{a="模型-ü"} 1', "m", { a: "模型-ü" }],
    ["blanks around tokens", 'm { a = "x" , b="y" }   1', "m", { a: "x", b: "y" }],
    ["tabs as separators", 'm{a="x"}\t1', "m", { a: "x" }],
    ["last duplicate label wins", 'm{a="1",a="2"} 1', "m", { a: "2" }],
  ];
  test.each(cases)("%s", (_, line, name, labels) => {
    const { families, errors } = parsePromText(line);
    expect(errors).toBe(0);
    expect(families.get(name)?.[0]?.labels).toEqual(labels);
  });

  test("__proto__ is an ordinary label name", () => {
    const s = only('m{__proto__="x"} 1');
    expect(Object.keys(s.labels)).toEqual(["__proto__"]);
    expect(Object.getOwnPropertyDescriptor(s.labels, "__proto__")?.value).toBe("x");
  });
});

describe("parsePromText: timestamps", () => {
  const cases: [string, string, number | undefined][] = [
    ["none", "m 1", undefined],
    ["ms timestamp", "m 1 1731845130123", 1731845130123],
    ["negative timestamp", "m 1 -5", -5],
    ["after labels", 'm{a="b"} 2.5 1700000000000', 1700000000000],
    ["trailing blanks after value", "m 1   ", undefined],
    ["trailing blanks after timestamp", "m 1 17 \t", 17],
  ];
  test.each(cases)("%s", (_, line, ts) => {
    expect(only(line).timestamp).toBe(ts);
  });
});

describe("parsePromText: document structure", () => {
  test("comments, HELP/TYPE and blank lines are skipped without errors", () => {
    const text = [
      '# HELP m A help text with {braces} and "quotes" and a \\ backslash',
      "# TYPE m gauge",
      "#just a comment",
      "   # indented comment",
      "",
      "   ",
      "m 1",
      "",
    ].join("\n");
    const { families, errors } = parsePromText(text);
    expect(errors).toBe(0);
    expect(families.get("m")).toEqual([{ labels: {}, value: 1 }]);
  });

  test("CRLF line endings", () => {
    const text = '# TYPE m gauge\r\nm{a="x"} 1\r\nm{a="y"} 2 123\r\n\r\nn 3\r\n';
    const { families, errors } = parsePromText(text);
    expect(errors).toBe(0);
    expect(families.get("m")).toEqual([
      { labels: { a: "x" }, value: 1 },
      { labels: { a: "y" }, value: 2, timestamp: 123 },
    ]);
    expect(families.get("n")?.[0]?.value).toBe(3);
  });

  test("no trailing newline", () => {
    expect(parsePromText("a 1\nb 2").families.get("b")?.[0]?.value).toBe(2);
  });

  test("empty input", () => {
    const r = parsePromText("");
    expect(r.errors).toBe(0);
    expect(r.families.size).toBe(0);
  });

  test("histogram lines are keyed by their own names, in order", () => {
    const text = `# TYPE h histogram
h_bucket{le="0.1"} 1
h_bucket{le="1"} 4
h_bucket{le="+Inf"} 5
h_sum 2.75
h_count 5
`;
    const { families, errors } = parsePromText(text);
    expect(errors).toBe(0);
    expect(families.get("h_bucket")?.map((s) => s.labels.le)).toEqual(["0.1", "1", "+Inf"]);
    expect(families.get("h_sum")?.[0]?.value).toBe(2.75);
    expect(families.get("h_count")?.[0]?.value).toBe(5);
    expect(families.has("h")).toBe(false);
  });

  test("a wanted filter keeps only the named metrics", () => {
    const text = 'a 1\nb{x="1"} 2\nc 3\nb{x="2"} 4\n';
    const { families, errors } = parsePromText(text, new Set(["b"]));
    expect(errors).toBe(0);
    expect([...families.keys()]).toEqual(["b"]);
    expect(families.get("b")?.map((s) => s.value)).toEqual([2, 4]);
  });

  test("a wanted filter matches whole names only (names compared in place, not sliced)", () => {
    // Names of equal length, names that are prefixes of others, leading blanks, labels.
    const text = 'ab 1\nabc 2\nabd 3\na 4\nac{x="1"} 5\nabcd 6\n  ab 7\nab_bucket 8\nbc 9\nac 10\n';
    const wanted = new Set(["ab", "ac", "abc"]);
    const filtered = parsePromText(text, wanted).families;
    const all = parsePromText(text).families;
    expect([...filtered]).toEqual([...all].filter(([name]) => wanted.has(name)));
    expect(filtered.get("ab")?.map((s) => s.value)).toEqual([1, 7]);
    expect(filtered.get("ac")?.map((s) => s.value)).toEqual([5, 10]);
    expect(filtered.get("abc")?.map((s) => s.value)).toEqual([2]);
  });

  test("a wanted filter keeps exactly the wanted names whatever prefix they share", () => {
    const text =
      'ab 1\nabc 2\nabd 3\na 4\nac{x="1"} 5\nabcd 6\n  ab 7\nab_bucket 8\nbc 9\nac 10\nx 11\ny 12\n{a="1"} 13\n9z 14\n';
    const all = parsePromText(text).families;
    for (const names of [[], ["ab"], ["ab", "abc"], ["x", "y"], ["abc", "abd"], ["a", "ac"], ["zz"]]) {
      const wanted = new Set(names);
      const { families, errors } = parsePromText(text, wanted);
      expect([...families]).toEqual([...all].filter(([name]) => wanted.has(name)));
      // The two lines that start with no metric name are read only without a filter.
      expect(errors).toBe(0);
    }
  });

  test("a wanted filter reads a wanted name only where a line starts with it", () => {
    // CRLF, comments and label values that hold the name, a lone CR (no line break for
    // this parser), blanks before the name, the last line without a break.
    const text = [
      "# HELP m Number of m.\r",
      "# TYPE m gauge\r",
      'other{note="m 5"} 1\r',
      "m_total 2\r",
      "x 3\rm 4",
      '\t m{a="1"} 6\r',
      "m",
      "m 7",
    ].join("\n");
    const wanted = new Set(["m"]);
    const { families, errors } = parsePromText(text, wanted);
    const all = parsePromText(text);
    expect([...families]).toEqual([...all.families].filter(([name]) => wanted.has(name)));
    expect(families.get("m")?.map((s) => s.value)).toEqual([6, 7]);
    expect(errors).toBe(1); // the bare "m": no value
  });

  test("a wanted filter gives the same samples as parsing everything, on a vLLM page", () => {
    const wanted = wantedMetrics(BUILTIN_ENGINES["vllm"]!);
    const filtered = parsePromText(VLLM_METRICS, wanted).families;
    const all = parsePromText(VLLM_METRICS).families;
    expect(filtered.size).toBeGreaterThan(2);
    expect([...filtered]).toEqual([...all].filter(([name]) => wanted.has(name)));
  });
});
