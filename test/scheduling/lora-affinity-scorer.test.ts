import { describe, expect, test } from "bun:test";
import { loraAffinityScorer } from "../../plugins/lora-affinity-scorer.ts";
import type { LoraState } from "../../src/endpoints/types.ts";
import { asArray, context, endpoint, request } from "./helpers.ts";

const lora = (maxLoras: number, running: string[], waiting: string[] = []): LoraState => ({
  maxLoras,
  running,
  waiting,
});

describe("lora-affinity-scorer", () => {
  test.each([
    { case: "adapter running", model: "ad", lora: lora(2, ["ad", "x"]), want: 1 },
    { case: "room to load", model: "ad", lora: lora(2, ["x"]), want: 0.8 },
    { case: "adapter waiting, no room", model: "ad", lora: lora(1, ["x"], ["ad"]), want: 0.6 },
    {
      case: "adapter waiting beats room (slots contended)",
      model: "ad",
      lora: lora(4, ["x"], ["ad"]),
      want: 0.6,
    },
    { case: "full", model: "ad", lora: lora(2, ["x", "y"], ["z"]), want: 0 },
    { case: "no LoRA state: base-model serving", model: "base", lora: undefined, want: 1 },
    {
      case: "listed base model on a full LoRA pod",
      model: "base",
      lora: lora(1, ["x"]),
      want: 1,
      base: ["base"],
    },
  ])("$case -> $want", ({ model, lora: state, want, base }) => {
    const e = endpoint("e", state === undefined ? {} : { lora: state });
    const scorer = loraAffinityScorer({ baseModels: base ?? [] });
    const ctx = context({ request: request({ model }) });
    expect(asArray(scorer.score(ctx, [e]), [e])).toEqual([want]);
  });
});
