import { describe, expect, test } from "bun:test";
import { seededRandom as rng } from "../../src/clock.ts";
import { indexOfBytes, lastIndexOfBytes, pattern, valueEnd } from "../../src/proxy/bytes.ts";
import { JsonAccounting } from "../../src/proxy/json-accounting.ts";

const enc = new TextEncoder();
const USAGE = pattern('"usage":');

/** Every start of `needle` in `hay`, by brute force: the reference. */
function starts(hay: Uint8Array, needle: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i + needle.length <= hay.length; i++) {
    let j = 0;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) out.push(i);
  }
  return out;
}

/** The usage the gateway read before the eighth pass: every key from the front, the last closed object wins. */
function usageFromFront(whole: Uint8Array): unknown {
  let found: [number, number] | undefined;
  for (let key = indexOfBytes(whole, USAGE); key !== -1; key = indexOfBytes(whole, USAGE, key + 1)) {
    let at = key + USAGE.length;
    while (whole[at] === 0x20 || whole[at] === 0x0a || whole[at] === 0x0d || whole[at] === 0x09) at++;
    if (whole[at] !== 0x7b) continue;
    const end = valueEnd(whole, at);
    if (end !== -1) found = [at, end];
  }
  return found && JSON.parse(new TextDecoder().decode(whole.subarray(found[0], found[1])));
}

const PIECES = [
  '"usage":',
  '"usage": ',
  '"usage":\n',
  '{"prompt_tokens":3,"completion_tokens":4}',
  '{"prompt_tokens":9,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":2}}',
  "null",
  "{",
  "}",
  '"usage"',
  ":",
  "usage:",
  '"x":1,',
  '"text":"a \\"usage\\": {}",',
  "é",
];

describe("lastIndexOfBytes", () => {
  test("finds the last start before the bound, as a brute-force search does (2,000 seeded cases)", () => {
    const r = rng(19);
    const needles = ['"usage":', "ab", "a", ":", "aba", ""].map(pattern);
    for (let n = 0; n < 2000; n++) {
      const len = Math.floor(r() * 40);
      const hay = new Uint8Array(len);
      for (let i = 0; i < len; i++) hay[i] = 'ab:"usage'.charCodeAt(Math.floor(r() * 9));
      const needle = needles[n % needles.length]!;
      const before = Math.floor(r() * (len + 3));
      const all = needle.length === 0 ? [] : starts(hay, needle).filter((s) => s < before);
      const want = needle.length === 0 ? Math.min(before, len) : (all.at(-1) ?? -1);
      expect([n, lastIndexOfBytes(hay, needle, before)]).toEqual([n, want]);
      if (before >= len) expect(lastIndexOfBytes(hay, needle)).toBe(want);
    }
  });
});

describe("JSON answer usage, searched from the end", () => {
  test("the same usage as the search from the front, for answers with several, nested, broken or no usage keys (1,000 seeded)", () => {
    const r = rng(8);
    let withUsage = 0;
    for (let n = 0; n < 1000; n++) {
      const parts: string[] = [];
      const count = 1 + Math.floor(r() * 8);
      for (let i = 0; i < count; i++) parts.push(PIECES[Math.floor(r() * PIECES.length)]!);
      const body = enc.encode(parts.join(""));
      let want: unknown;
      try {
        want = usageFromFront(body);
      } catch {
        want = undefined; // the last closed object is not JSON: the accounting has no usage then
      }
      const acc = new JsonAccounting();
      acc.chunk(body);
      acc.flush();
      const expected = new JsonAccounting();
      // What the accounting makes of the reference's object (the same mapping of fields).
      expected.chunk(enc.encode(want === undefined ? "" : JSON.stringify({ usage: want })));
      expected.flush();
      expect([n, acc.result.usage]).toEqual([n, expected.result.usage]);
      if (want) withUsage++;
    }
    expect(withUsage).toBeGreaterThan(100);
  });

  test("a tool's input named usage before the top-level usage does not win; a later unclosed one is skipped", () => {
    const body = `{"choices":[{"message":{"tool_calls":[{"function":{"arguments":{"usage":{"prompt_tokens":99}}}}]}}],"usage":{"prompt_tokens":5,"completion_tokens":2},"x":{"usage":{`;
    const acc = new JsonAccounting();
    acc.chunk(enc.encode(body));
    acc.flush();
    expect(acc.result.usage).toEqual({ promptTokens: 5, completionTokens: 2, cachedTokens: 0 });
  });
});
