import { describe, expect, spyOn, test } from "bun:test";
import { GatewayError } from "../../src/errors.ts";
import { parseJsonBody } from "../../src/openai/body.ts";

/**
 * The JSON body is parsed from bytes the parse stage has already read, synchronously (issue
 * 19, fifth pass: no async frame and promise of its own per request); bad bodies are the
 * same 400 `invalid_json` as before.
 */
describe("parseJsonBody", () => {
  const bytes = (s: string) => new TextEncoder().encode(s) as Uint8Array<ArrayBuffer>;

  test("parses an object at once and keeps the bytes it came from", () => {
    const b = bytes('{"model":"m","messages":[{"role":"user","content":"héllo"}]}');
    const parsed = parseJsonBody(b);
    expect(parsed).not.toBeInstanceOf(Promise);
    expect(parsed.body).toEqual({ model: "m", messages: [{ role: "user", content: "héllo" }] });
    expect(parsed.bytes).toBe(b);
  });

  test("not JSON, or JSON that is not an object: 400 invalid_json", () => {
    for (const text of ["{", "", "[1]", "null", '"s"', "3"]) {
      let err: unknown;
      try {
        parseJsonBody(bytes(text));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(GatewayError);
      expect((err as GatewayError).status).toBe(400);
      expect((err as GatewayError).code).toBe("invalid_json");
    }
  });

  /**
   * Under Bun the bytes go to Bun's JSON Lines parser first (no decoded copy of the body), and
   * its value is used only when it is the one value the bytes hold; everything else falls back
   * to JSON.parse. The two must agree: each input here is compared with JSON.parse of the
   * decoded text, value for value (own keys, their order, the prototype), error for error.
   */
  const edge: [string, Uint8Array<ArrayBuffer>][] = [
    ["plain", bytes('{"model":"m"}')],
    ["pretty", bytes('{\n  "model": "m",\n  "messages": [\n    {"role": "user", "content": "hi"}\n  ]\n}')],
    ["CRLF", bytes('{\r\n  "a": 1\r\n}\r\n')],
    ["surrounding whitespace", bytes('\n\n  {"a":1}\n  ')],
    ["a UTF-8 BOM", new Uint8Array([0xef, 0xbb, 0xbf, ...bytes('{"a":1}')])],
    ["__proto__ as a key", bytes('{"__proto__":{"polluted":1},"a":1}')],
    ["a repeated key", bytes('{"a":1,"a":2}')],
    ["numbers", bytes('{"a":1e400,"b":-0,"c":9007199254740993,"d":0.1,"e":1E-7,"f":-1.5e+300}')],
    ["escapes", bytes('{"a":"\\u0000\\ud800\\u2028\\"\\\\\\/\\b\\f\\n\\r\\t","\\u0061":1}')],
    ["non-ASCII", bytes('{"a":"héllo 日本 🎉"}')],
    ["bad UTF-8", new Uint8Array([...bytes('{"a":"'), 0xff, 0xfe, ...bytes('"}')])],
    ["an encoded lone surrogate", new Uint8Array([...bytes('{"a":"'), 0xed, 0xa0, 0x80, ...bytes('"}')])],
    ["integer-like keys", bytes('{"b":1,"2":2,"1":3,"a":4}')],
    [
      "a long prompt",
      bytes(JSON.stringify({ model: "m", messages: [{ role: "user", content: "x".repeat(40000) }] })),
    ],
    ["deep nesting", bytes(`{"a":${"[".repeat(2000)}${"]".repeat(2000)}}`)],
    ["two objects", bytes("{}{}")],
    ["two lines", bytes("{}\n{}")],
    ["trailing bytes", bytes('{"a":1} x')],
    ["a NUL after the object", new Uint8Array([...bytes('{"a":1}'), 0])],
    ["a raw newline in a string", bytes('{"a":"x\ny"}')],
    ["a trailing comma", bytes('{"a":1,}')],
    ["a comment", bytes('{"a":1 /* c */}')],
    ["NaN", bytes('{"a":NaN}')],
    ["a leading zero", bytes('{"a":01}')],
    ["whitespace only", bytes("   ")],
  ];

  test("the same objects and the same refusals as JSON.parse of the decoded text", () => {
    const decoder = new TextDecoder();
    for (const [name, b] of edge) {
      let expected: unknown;
      let refused = false;
      try {
        expected = JSON.parse(decoder.decode(b));
      } catch {
        refused = true;
      }
      if (refused) {
        expect(() => parseJsonBody(b), name).toThrow(GatewayError);
        continue;
      }
      const got = parseJsonBody(b).body;
      expect(got, name).toStrictEqual(expected as Record<string, unknown>);
      expect(Object.keys(got), name).toEqual(Object.keys(expected as object));
      expect(Object.getPrototypeOf(got), name).toBe(Object.prototype);
    }
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    // Nesting a million deep (within the body limit): parsed, no crash (neither parser recurses).
    const deep = parseJsonBody(bytes(`{"a":${"[".repeat(1_000_000)}${"]".repeat(1_000_000)}}`)).body;
    expect(Array.isArray(deep["a"])).toBe(true);
  });

  test("under Bun the JSON Lines parser reads ASCII bytes, and JSON.parse takes what it does not settle", () => {
    const jsonl = (globalThis as { Bun?: { JSONL?: { parseChunk(b: Uint8Array): unknown } } }).Bun?.JSONL;
    if (!jsonl) return; // another runtime: JSON.parse alone
    const spy = spyOn(jsonl, "parseChunk");
    try {
      expect(parseJsonBody(bytes('{"model":"m"}')).body).toEqual({ model: "m" });
      expect(spy).toHaveBeenCalledTimes(1);
      // Two values: the JSON Lines parser reads both, the body is refused as JSON.parse refuses it.
      expect(() => parseJsonBody(bytes('{"a":1}\n{"b":2}'))).toThrow(GatewayError);
      expect(spy).toHaveBeenCalledTimes(2);
      // Not ASCII: decode + JSON.parse, which is 2-3.6× faster there than the JSON Lines parser.
      expect(parseJsonBody(bytes('{"content":"日本語"}')).body).toEqual({ content: "日本語" });
      expect(spy).toHaveBeenCalledTimes(2);
    } finally {
      spy.mockRestore();
    }
  });
});
