import { describe, expect, test } from "bun:test";
import { topLevelValue } from "../../src/proxy/bytes.ts";

/**
 * topLevelValue (the model rename's splice, src/proxy/bytes.ts) walks a request body's
 * top-level keys with the runtime's typed-array `indexOf`, which under V8 is a plain loop,
 * not a memchr. Each byte must be searched about once: the escaped-key check used to search
 * from each key to the first backslash after it, i.e. to the end of a body without one,
 * once per key (a renamed 30 KiB body cost ~50 µs on Node). The bytes searched are counted
 * through a Uint8Array whose indexOf records how far each call went.
 */
class CountingBytes extends Uint8Array {
  searched = 0;
  override indexOf(value: number, from = 0): number {
    const at = super.indexOf(value, from);
    this.searched += (at === -1 ? this.length : at + 1) - from;
    return at;
  }
}

function counting(text: string): CountingBytes {
  const utf8 = new TextEncoder().encode(text);
  const out = new CountingBytes(utf8.length);
  out.set(utf8);
  return out;
}

const MODEL = new TextEncoder().encode('"model"');

describe("topLevelValue searches each byte about once", () => {
  const prompt = "word ".repeat(6000);

  test("a 30 KiB prompt first, then several keys: not a search to the end per key", () => {
    const text = JSON.stringify({
      messages: [{ role: "user", content: prompt }],
      model: "m",
      max_tokens: 16,
      temperature: 0,
      stream: false,
    });
    const hay = counting(text);
    const at = topLevelValue(hay, MODEL);
    expect(at).toBeDefined();
    expect(text.slice(at![0], at![1])).toBe('"m"');
    expect(hay.searched).toBeLessThan(text.length * 1.2);
  });

  test("the model first and the prompt last: the same", () => {
    const text = JSON.stringify({
      model: "m",
      max_tokens: 16,
      stream: true,
      messages: [{ role: "user", content: prompt }],
    });
    const hay = counting(text);
    expect(topLevelValue(hay, MODEL)).toBeDefined();
    expect(hay.searched).toBeLessThan(text.length * 1.2);
  });

  test("an escaped key is still refused, wherever the backslash sits in it", () => {
    for (const key of ['"mod\\u0065l"', '"\\u006dodel"', '"mode\\u006c"', '"a\\\\"']) {
      const text = `{"messages":[],${key}:"m","model":"m"}`;
      expect(topLevelValue(counting(text), MODEL)).toBeUndefined();
    }
    expect(topLevelValue(counting('{"messages":"a\\\\b","model":"m"}'), MODEL)).toBeDefined();
  });
});
