import { describe, expect, test } from "bun:test";
import { BUILTIN_ENGINES, type EngineMapping, toSnapshot } from "../../src/datalayer/engines.ts";
import { parsePromText } from "../../src/datalayer/prom-text.ts";
import type { LoraState } from "../../src/endpoints/types.ts";

const vllm = BUILTIN_ENGINES.vllm!;
const line = (max: string, running: string, waiting: string, ts: string) =>
  `vllm:lora_requests_info{max_lora="${max}",running_lora_adapters="${running}",waiting_lora_adapters="${waiting}"} ${ts}`;
const lora = (lines: string[], m: EngineMapping = vllm) =>
  toSnapshot(parsePromText(lines.join("\n")).families, m, 0).lora;

describe("LoRA state: the newest series wins", () => {
  const cases: [string, string[], LoraState | undefined][] = [
    ["no series: no LoRA state", [], undefined],
    ["a single series", [line("2", "a", "", "10")], { maxLoras: 2, running: ["a"], waiting: [] }],
    [
      "newest is last",
      [line("4", "a", "", "1.0e9"), line("4", "a,b", "c", "1.1e9")],
      { maxLoras: 4, running: ["a", "b"], waiting: ["c"] },
    ],
    [
      "newest is first (order does not matter)",
      [line("4", "x", "y", "1731845300"), line("4", "a", "", "1731845200"), line("4", "", "", "1731845100")],
      { maxLoras: 4, running: ["x"], waiting: ["y"] },
    ],
    ["empty strings mean none", [line("8", "", "", "5")], { maxLoras: 8, running: [], waiting: [] }],
    [
      "blanks after commas are trimmed, empty items dropped",
      [line("3", "adapter1, adapter2,", " adapter3 ", "5")],
      { maxLoras: 3, running: ["adapter1", "adapter2"], waiting: ["adapter3"] },
    ],
    ["unparsable max_lora reads 0", [line("", "a", "", "5")], { maxLoras: 0, running: ["a"], waiting: [] }],
    [
      "a NaN timestamp never beats a real one",
      [line("1", "nan-one", "", "NaN"), line("1", "real", "", "3")],
      { maxLoras: 1, running: ["real"], waiting: [] },
    ],
  ];
  test.each(cases)("%s", (_, lines, want) => {
    expect(lora(lines)).toEqual(want);
  });

  test("custom label names via loraLabels", () => {
    const m: EngineMapping = {
      waiting: ["w"],
      running: ["r"],
      kvUsage: [],
      lora: "x:lora",
      loraLabels: { max: "cap", running: "loaded", waiting: "queued" },
    };
    expect(lora(['x:lora{cap="2",loaded="p,q",queued=""} 1'], m)).toEqual({
      maxLoras: 2,
      running: ["p", "q"],
      waiting: [],
    });
  });
});
