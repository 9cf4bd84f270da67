import { describe, expect, test } from "bun:test";
import {
  SCAN_CONTENT,
  SCAN_NO_CHOICES,
  scanChunk,
  scannedUsage,
  UNSURE,
} from "../../src/proxy/chunk-scan.ts";
import { frameJsonIn } from "../../src/proxy/sse-frame.ts";
import { usageOf } from "../../src/proxy/usage.ts";

/**
 * chunk-scan.ts (issue 19, sixteenth pass): the byte walk of an OpenAI chunk frame says what
 * the parse would (frameJsonIn, then the tap's reads: confirmedContent, `choices: []`,
 * usageOf("openai", obj.usage)) whenever it answers, and answers UNSURE otherwise.
 */

const enc = new TextEncoder();

/** The tap's reads of the parsed frame (accounting.ts's confirmedContent and drop test). */
function parsed(buf: Uint8Array, start: number, end: number) {
  const obj = frameJsonIn(buf, start, end);
  const choices = obj?.["choices"];
  const filled = (v: unknown) => typeof v === "string" && v !== "";
  const content =
    Array.isArray(choices) &&
    choices.some((c: { delta?: Record<string, unknown>; text?: unknown }) => {
      const d = c?.delta;
      return (
        filled(c?.text) ||
        (!!d && (filled(d["content"]) || filled(d["reasoning_content"]) || filled(d["reasoning"])))
      );
    });
  return {
    content,
    noChoices: Array.isArray(choices) && choices.length === 0,
    usage: usageOf("openai", obj?.["usage"]),
  };
}

function scanned(buf: Uint8Array, start: number, end: number) {
  const s = scanChunk(buf, start, end);
  if (s === UNSURE) return undefined;
  return { content: (s & SCAN_CONTENT) !== 0, noChoices: (s & SCAN_NO_CHOICES) !== 0, usage: scannedUsage() };
}

/** A seeded generator (mulberry32). */
function rng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** JSON text written as is (a number's spelling, an escaped key). */
class Raw {
  constructor(readonly text: string) {}
}

describe("scanChunk: the byte walk of a chunk frame", () => {
  test("vLLM's frames: sure, and what the parse says", () => {
    const frames = [
      `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\n\n`,
      `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" tok\\n\\"x\\u00e9"},"logprobs":null,"finish_reason":null}]}\n\n`,
      `data: {"id":"c","choices":[],"usage":{"prompt_tokens":12,"total_tokens":19,"completion_tokens":7,"prompt_tokens_details":{"cached_tokens":4}}}\n\n`,
      `data: {"id":"c","choices":[],"usage":{"prompt_tokens":12,"total_tokens":19,"completion_tokens":7,"prompt_tokens_details":null}}`,
      `data: {"id":"c","choices":[{"index":0,"text":"héllo","logprobs":null,"finish_reason":null}],"model":"m"}\n\n`,
      `data: {"choices":[{"delta":{"reasoning_content":"think"}}],"usage":null}\n`,
    ];
    const want = [0, SCAN_CONTENT, SCAN_NO_CHOICES, SCAN_NO_CHOICES, SCAN_CONTENT, SCAN_CONTENT];
    frames.forEach((f, i) => {
      const b = enc.encode(f);
      expect(scanChunk(b, 0, b.length)).toBe(want[i]!);
      expect(scanned(b, 0, b.length)).toEqual(parsed(b, 0, b.length));
    });
    const u = enc.encode(frames[2]!);
    scanChunk(u, 0, u.length);
    expect(scannedUsage()).toEqual({ promptTokens: 12, completionTokens: 7, cachedTokens: 4 });
  });

  test("unsure where the parse is needed: escapes in keys, CR, numbers not plain, two data lines, not JSON", () => {
    for (const f of [
      `data: {"\\u0075sage":{"prompt_tokens":1}}\n\n`,
      `data: {"usage":{"prompt_tokens":1}}\r\n\r\n`,
      `data: {"usage":{"prompt_tokens":1.0}}\n\n`,
      `data: {"usage":{"prompt_tokens":1e2}}\n\n`,
      `data: {"usage":{"prompt_tokens":1234567890123456}}\n\n`,
      `data: {"usage":{"prompt_tokens":1}}\ndata: {}\n\n`,
      `data: {"usage":{"prompt_tokens":01}}\n\n`,
      `data: {"usage":{"prompt_tokens":1},}\n\n`,
      `data: {"a":"\\x"}\n\n`,
      `data: {"a":"\t"}\n\n`,
      `data: [DONE]\n\n`,
      `event: x\ndata: {}\n\n`,
      `data: {"a":1} x\n\n`,
      `data: {"a":1}\n\nx`,
      `data: ${"[".repeat(40)}${"]".repeat(40)}\n\n`,
    ]) {
      const b = enc.encode(f);
      expect(scanChunk(b, 0, b.length)).toBe(UNSURE);
    }
  });

  test("the same answer as the parse on 100,000 generated frames, anywhere in a buffer", () => {
    const r = rng(16);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const num = () =>
      pick<unknown>([
        0,
        7,
        -3,
        123456789012345,
        new Raw("-0"),
        new Raw("1.5"),
        new Raw("2E1"),
        new Raw("1234567890123456"),
        "5",
        null,
        true,
        {},
        [],
      ]);
    const str = () =>
      pick<unknown>(["", "x", " tok", "y", "z\\n", 'a\\"b', "é", "\n", "\u0001", null, 0, {}, [], false]);
    const obj = (keys: readonly string[], value: () => unknown): Record<string, unknown>[] => {
      // An array of [key, value] pairs (duplicates allowed), key order random.
      const n = Math.floor(r() * 4);
      const out: Record<string, unknown>[] = [];
      for (let i = 0; i < n; i++) out.push({ k: pick(keys), v: value() });
      return out;
    };
    const details = () =>
      r() < 0.6 ? { $: obj(["cached_tokens", "other"], num) } : pick<unknown>([null, [], 3]);
    const usageValue = () =>
      r() < 0.8
        ? {
            $: obj(
              ["prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details", "x"],
              () => (r() < 0.2 ? details() : num()),
            ),
          }
        : pick<unknown>([null, [], "u", 1]);
    const delta = () =>
      r() < 0.8
        ? { $: obj(["content", "reasoning_content", "reasoning", "role", "tool_calls"], str) }
        : str();
    const choice = () =>
      r() < 0.85
        ? {
            $: obj(["index", "delta", "text", "logprobs", "finish_reason"], () =>
              r() < 0.5 ? delta() : str(),
            ),
          }
        : str();
    const choices = () =>
      r() < 0.85 ? Array.from({ length: Math.floor(r() * 3) }, choice) : pick<unknown>([null, {}, "c"]);
    const top = () => ({
      $: Array.from({ length: 1 + Math.floor(r() * 5) }, () => {
        const k = pick(["choices", "usage", "id", "model", "created", "choices", "usage"]);
        return { k, v: k === "choices" ? choices() : k === "usage" ? usageValue() : str() };
      }),
    });
    const ws = () => (r() < 0.9 ? "" : r() < 0.95 ? pick([" ", "\t", "  "]) : pick(["\r", "\n"]));
    const key = (k: string) =>
      r() < 0.03 ? `"\\u00${k.charCodeAt(0).toString(16)}${k.slice(1)}"` : JSON.stringify(k);
    const write = (v: unknown): string => {
      if (v instanceof Raw) return v.text;
      if (Array.isArray(v)) return `[${ws()}${v.map((x) => write(x) + ws()).join(`,${ws()}`)}]`;
      if (v && typeof v === "object" && "$" in v) {
        const members = (v as { $: { k: string; v: unknown }[] }).$;
        return `{${ws()}${members.map((m) => `${key(m.k)}${ws()}:${ws()}${write(m.v)}${ws()}`).join(`,${ws()}`)}}`;
      }
      if (typeof v === "string") return JSON.stringify(v).replaceAll("\\\\", "\\");
      return JSON.stringify(v);
    };
    const spoil = (s: string): string => {
      const at = Math.floor(r() * s.length);
      switch (Math.floor(r() * 12)) {
        case 0:
          return s.slice(0, at) + s.slice(at + 1);
        case 1:
          return s.slice(0, at) + pick(['"', ",", "}", "]", "{", "\\", "0", ":", "\u00ff"]) + s.slice(at);
        case 2:
          return s.slice(0, at);
        default:
          return s;
      }
    };
    let sure = 0;
    let content = 0;
    let noChoices = 0;
    let usage = 0;
    for (let i = 0; i < 100_000; i++) {
      const json = spoil(write(top()));
      const frame = `${pick(["data: ", "data:", "data:  "])}${ws()}${json}${ws()}${pick(["\n\n", "\n\n", "\n", "", "\n\n\n", "\ndata: 1\n\n", "\r\n\r\n"])}`;
      const before = pick(["", "data: x\n\n", '{"a":1}']);
      const after = pick(["", "data: [DONE]\n\n", '"}]}', "5"]);
      const b = enc.encode(before + frame + after);
      const start = enc.encode(before).length;
      const end = b.length - enc.encode(after).length;
      const got = scanned(b, start, end);
      if (got === undefined) continue;
      const want = parsed(b, start, end);
      if (
        JSON.stringify(got) !== JSON.stringify(want) ||
        !Object.is(got.usage?.promptTokens, want.usage?.promptTokens)
      )
        expect({ frame, got }).toEqual({ frame, got: want });
      sure++;
      if (got.content) content++;
      if (got.noChoices) noChoices++;
      if (got.usage) usage++;
    }
    // The generator reaches the cases that matter (the rest are frames the walk leaves to the parse).
    expect(sure).toBeGreaterThan(25_000);
    expect(content).toBeGreaterThan(700);
    expect(noChoices).toBeGreaterThan(4_000);
    expect(usage).toBeGreaterThan(1_200);
  });
});
