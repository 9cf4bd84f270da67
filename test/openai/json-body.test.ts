import { describe, expect, test } from "bun:test";
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
});
