import { describe, expect, test } from "bun:test";
import { indexOfBytes, pattern } from "../../src/proxy/bytes.ts";
import { chunkFields, FIELD_OBJECT, FIELD_TEXT, usageObject } from "../../src/proxy/frame-fields.ts";
import { scanFields } from "../helpers/scan-fields.ts";

const enc = new TextEncoder();
const TEXT_KEYS = ['"content', '"text', '"reasoning_content', '"reasoning'].map(pattern);
const USAGE = pattern('"usage');
const reference = (b: Uint8Array, from: number, to: number) => scanFields(b, from, to, TEXT_KEYS, USAGE);
const frame = (o: unknown) => enc.encode(`data: ${JSON.stringify(o)}\n\n`);

/** A small deterministic generator (no Math.random: a failure replays). */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("chunkFields (the SSE tap's frame scan)", () => {
  test("vLLM chunks: text, none, usage, both", () => {
    const token = frame({
      id: "c",
      choices: [{ index: 0, delta: { content: " tok" }, finish_reason: null }],
    });
    expect(chunkFields(token, 0, token.length)).toBe(FIELD_TEXT);
    const role = frame({ choices: [{ index: 0, delta: { role: "assistant", content: "" } }] });
    expect(chunkFields(role, 0, role.length)).toBe(0);
    const usage = frame({ choices: [], usage: { prompt_tokens: 1, completion_tokens: 2 } });
    expect(chunkFields(usage, 0, usage.length)).toBe(FIELD_OBJECT);
    // continuous_usage_stats: a token frame with its usage after the text (found past the text).
    const both = frame({ choices: [{ delta: { reasoning: "r" } }], usage: { prompt_tokens: 1 } });
    expect(chunkFields(both, 0, both.length)).toBe(FIELD_TEXT | FIELD_OBJECT);
    // A text field at the frame's start, found by the backward scan's last steps.
    const first = frame({ text: "x", choices: [{ index: 0, finish_reason: "stop" }] });
    expect(chunkFields(first, 0, first.length)).toBe(FIELD_TEXT);
  });

  test("the same answer as scanFields at the range's edges", () => {
    // `"content":"x` ending right at `to` (its colon at to - 3), and a usage `{` at to - 2 / to - 1.
    for (const s of [
      '"content":"x',
      '"content":"x"',
      '"usage":{',
      '"usage":{}',
      'x"usage":{1',
      '"text":""',
    ]) {
      const b = enc.encode(s);
      for (let from = 0; from < 3; from++)
        for (let to = b.length; to >= Math.max(from, b.length - 3); to--)
          expect([s, from, to, chunkFields(b, from, to)]).toEqual([s, from, to, reference(b, from, to)]);
    }
  });

  test("the same answer as scanFields on 200,000 generated frames", () => {
    const parts = [
      '"',
      ":",
      "{",
      "}",
      "a",
      "content",
      "usage",
      "text",
      "reasoning",
      "_content",
      "\\",
      " ",
      '""',
      "\n",
      ",",
    ];
    const next = rng(19);
    let differ = 0;
    for (let i = 0; i < 200_000; i++) {
      let s = "";
      const n = 1 + Math.floor(next() * 16);
      for (let j = 0; j < n; j++) s += parts[Math.floor(next() * parts.length)];
      const b = enc.encode(s);
      const from = Math.floor(next() * 3);
      const to = Math.max(from, b.length - Math.floor(next() * 3));
      if (chunkFields(b, from, to) !== reference(b, from, to)) differ++;
    }
    expect(differ).toBe(0);
  });
});

describe("usageObject (the usage key's search, anchored on its `g`)", () => {
  const KEY = pattern('"usage":{');
  const same = (b: Uint8Array) => {
    const wrong: string[] = [];
    for (let from = 0; from <= b.length; from++)
      for (let to = from; to <= b.length; to++)
        if (usageObject(b, from, to) !== (indexOfBytes(b, KEY, from, to) !== -1)) wrong.push(`${from}-${to}`);
    return wrong;
  };

  test("the same answer as indexOfBytes for every range of chat chunks", () => {
    const token = frame({ id: "c", choices: [{ index: 0, delta: { content: "egg" }, logprobs: null }] });
    const usage = frame({ choices: [], usage: { prompt_tokens: 1 } });
    expect(usageObject(usage, 0, usage.length)).toBe(true);
    expect(usageObject(token, 0, token.length)).toBe(false);
    expect(same(token)).toEqual([]);
    expect(same(usage)).toEqual([]);
    // The key whole at a range's very start and end, and cut by either.
    expect(same(enc.encode('"usage":{'))).toEqual([]);
    expect(same(enc.encode('gg"usage":{g"usage":'))).toEqual([]);
  });

  test("the same answer as indexOfBytes on 20,000 generated strings", () => {
    const parts = ['"usage":{', '"usage":', "usage", "g", "{", '"', ":", "a"];
    const next = rng(9);
    let differ = 0;
    for (let i = 0; i < 20_000; i++) {
      let s = "";
      const n = 1 + Math.floor(next() * 8);
      for (let j = 0; j < n; j++) s += parts[Math.floor(next() * parts.length)];
      const b = enc.encode(s);
      const from = Math.floor(next() * 4);
      const to = Math.max(from, b.length - Math.floor(next() * 4));
      if (usageObject(b, from, to) !== (indexOfBytes(b, KEY, from, to) !== -1)) differ++;
    }
    expect(differ).toBe(0);
  });
});
