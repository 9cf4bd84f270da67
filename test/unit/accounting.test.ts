import { describe, expect, test } from "bun:test";
import { SseAccounting } from "../../src/proxy/accounting.ts";
import { JsonAccounting } from "../../src/proxy/json-accounting.ts";
import { contentFrame, DONE, doneFrame, frame, roleFrame, usageFrame } from "../helpers/sse-frames.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const ROLE = roleFrame();
const USAGE = usageFrame({
  prompt_tokens: 7,
  completion_tokens: 3,
  total_tokens: 10,
  prompt_tokens_details: { cached_tokens: 4 },
});

function run(chunks: string[], drop: boolean) {
  let t = 100;
  const acc = new SseAccounting({ kind: "chat", now: () => (t += 10), dropUsageEvent: drop });
  let out = "";
  for (const c of chunks) {
    const b = acc.chunk(enc.encode(c));
    for (const piece of b instanceof Uint8Array ? [b] : (b ?? [])) out += dec.decode(piece);
  }
  const rest = acc.flush();
  if (rest) out += dec.decode(rest);
  return { out, r: acc.result };
}

describe("SSE accounting", () => {
  const stream = [ROLE, contentFrame("a"), contentFrame(" b"), contentFrame(" c"), USAGE, DONE];

  test("passes the bytes untouched and reads TTFT, gaps and usage", () => {
    const { out, r } = run(stream, false);
    expect(out).toBe(stream.join(""));
    expect(r.contentEvents).toBe(3);
    expect(r.firstTokenAt).toBe(110); // the clock is read at the first content event, not the role-only one
    expect(r.maxInterTokenMs).toBe(10);
    expect(r.usage).toEqual({ promptTokens: 7, completionTokens: 3, cachedTokens: 4 });
  });

  test("drops the usage event the gateway asked for, and nothing else", () => {
    const { out, r } = run(stream, true);
    expect(out).toBe([ROLE, contentFrame("a"), contentFrame(" b"), contentFrame(" c"), DONE].join(""));
    expect(r.usage?.completionTokens).toBe(3);
  });

  test.each([1, 3, 7, 64])("events split across chunks of %i bytes give the same result", (size) => {
    const whole = stream.join("");
    const pieces: string[] = [];
    for (let i = 0; i < whole.length; i += size) pieces.push(whole.slice(i, i + size));
    for (const drop of [false, true]) {
      const { out, r } = run(pieces, drop);
      expect(out).toBe(
        drop ? [ROLE, contentFrame("a"), contentFrame(" b"), contentFrame(" c"), DONE].join("") : whole,
      );
      expect(r.contentEvents).toBe(3);
      expect(r.usage?.promptTokens).toBe(7);
    }
  });

  test("CRLF framing and completions' text chunks", () => {
    const text = (t: string) =>
      frame({ object: "text_completion", choices: [{ index: 0, text: t }] }, "\r\n");
    const { r } = run([text("x"), text("y"), doneFrame("\r\n")], true);
    expect(r.contentEvents).toBe(2);
  });

  test("reads the clock once per chunk, however many content frames it holds", () => {
    let reads = 0;
    const acc = new SseAccounting({ kind: "chat", now: () => 100 + 10 * reads++ });
    acc.chunk(enc.encode([ROLE, contentFrame("a"), contentFrame(" b"), contentFrame(" c")].join("")));
    expect(reads).toBe(1);
    acc.chunk(enc.encode(contentFrame(" d") + USAGE + DONE));
    acc.flush();
    expect(reads).toBe(2);
    expect(acc.result.contentEvents).toBe(4);
    expect(acc.result.firstTokenAt).toBe(100);
    expect(acc.result.maxInterTokenMs).toBe(10);
  });

  test("counts response bytes", () => {
    const { r } = run(stream, true);
    expect(r.responseBytes).toBe(enc.encode(stream.join("")).byteLength);
  });
});

describe("JSON accounting", () => {
  test("reads usage from the whole body, whatever the chunking", () => {
    const acc = new JsonAccounting();
    const body = JSON.stringify({
      choices: [],
      usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
    });
    for (let i = 0; i < body.length; i += 5) acc.chunk(enc.encode(body.slice(i, i + 5)));
    acc.flush();
    expect(acc.result.usage).toEqual({ promptTokens: 5, completionTokens: 2, cachedTokens: 0 });
    expect(acc.result.firstTokenAt).toBeUndefined();
  });

  test("a body that is not JSON has no usage and does not throw", () => {
    const acc = new JsonAccounting();
    acc.chunk(enc.encode("<html>bad gateway</html>"));
    acc.flush();
    expect(acc.result.usage).toBeUndefined();
  });
});
