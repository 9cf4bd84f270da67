import { describe, expect, test } from "bun:test";
import { SseAccounting } from "../../src/proxy/accounting.ts";
import { contentFrame, DONE, frame } from "../helpers/sse-frames.ts";

const enc = new TextEncoder();
/** A frame the byte test takes for text (a non-empty `content` string) that is no content: a tool's argument. */
const notContent = frame({
  choices: [{ index: 0, delta: { tool_calls: [{ function: { arguments: "{}" } }] } }],
  content: "x",
});

/** Counts JSON.parse calls made while `run` runs. */
function parses(run: () => void): number {
  const parse = JSON.parse;
  let n = 0;
  JSON.parse = ((...args: Parameters<typeof JSON.parse>) => {
    n++;
    return parse(...args);
  }) as typeof JSON.parse;
  try {
    run();
  } finally {
    JSON.parse = parse;
  }
  return n;
}

describe("the first content frame's confirming parse runs after its chunk went out", () => {
  test("no parse in the first chunk's tap; the next chunk confirms it at the time read for it", () => {
    let t = 10;
    const a = new SseAccounting({ kind: "chat", now: () => t });
    const first = enc.encode(contentFrame("Hel"));
    let out: unknown;
    expect(parses(() => (out = a.chunk(first)))).toBe(0);
    expect(out).toBe(first);
    t = 25;
    expect(parses(() => a.chunk(enc.encode(contentFrame("lo"))))).toBe(1);
    expect(a.result).toMatchObject({
      firstTokenAt: 10,
      lastTokenAt: 25,
      maxInterTokenMs: 15,
      contentEvents: 2,
    });
  });

  test("reading the result, or the end, confirms a first frame still waiting", () => {
    let t = 10;
    const a = new SseAccounting({ kind: "chat", now: () => t });
    a.chunk(enc.encode(contentFrame("Hi")));
    t = 99;
    expect(a.result).toMatchObject({ firstTokenAt: 10, lastTokenAt: 10, contentEvents: 1 });
    const b = new SseAccounting({ kind: "chat", now: () => t });
    b.chunk(enc.encode(contentFrame("Hi")));
    b.flush();
    expect(b.result.contentEvents).toBe(1);
  });

  test("a candidate that is no content is not counted; the next text frame in the same chunk is the first token", () => {
    let t = 10;
    const a = new SseAccounting({ kind: "chat", now: () => t });
    a.chunk(enc.encode(notContent));
    t = 20;
    a.chunk(enc.encode(notContent + contentFrame("a") + contentFrame("b")));
    t = 30;
    a.chunk(enc.encode(contentFrame("c")));
    expect(a.result).toMatchObject({
      firstTokenAt: 20,
      lastTokenAt: 30,
      contentEvents: 3,
      maxInterTokenMs: 10,
    });
  });

  test("the same counts as frames one by one, or in one chunk", () => {
    const stream = contentFrame("a") + notContent + contentFrame("b") + contentFrame("c") + DONE;
    const whole = new SseAccounting({ kind: "chat", now: () => 5 });
    whole.chunk(enc.encode(stream));
    whole.flush();
    const split = new SseAccounting({ kind: "chat", now: () => 5 });
    for (const part of stream.split(/(?<=\n\n)/)) split.chunk(enc.encode(part));
    split.flush();
    expect(split.result).toEqual(whole.result);
    // Once the first token is known the byte test alone decides: the tool frame after it counts.
    expect(whole.result.contentEvents).toBe(4);
  });
});

describe("what the confirming parse takes for text in a first frame", () => {
  /** Whether a stream whose first frame is `obj` counts that frame as its first token. */
  const counted = (obj: unknown): boolean => {
    const a = new SseAccounting({ kind: "chat", now: () => 1 });
    a.chunk(enc.encode(frame(obj)));
    return a.result.contentEvents === 1;
  };
  // Each frame also holds `"content":"x"` at its top, so the byte test always takes it for text.
  const first = (choices: unknown[]) => ({ choices, content: "x" });

  test("text in any choice, in any of the fields that carry it", () => {
    expect(counted(first([{ index: 0, text: "a" }]))).toBe(true); // completions
    expect(counted(first([{ index: 0, delta: { content: "a" } }]))).toBe(true);
    expect(counted(first([{ index: 0, delta: { reasoning_content: "a" } }]))).toBe(true);
    expect(counted(first([{ index: 0, delta: { reasoning: "a" } }]))).toBe(true);
    expect(
      counted(first([null, { index: 0, delta: { content: "" } }, { index: 1, delta: { content: "b" } }])),
    ).toBe(true);
  });

  test("no text: empty strings, other types, no choices", () => {
    expect(counted(first([{ index: 0, delta: { content: "" }, text: "" }]))).toBe(false);
    expect(counted(first([{ index: 0, delta: { content: 5, reasoning: null } }]))).toBe(false);
    expect(counted(first([null, { index: 0 } as unknown]))).toBe(false);
    expect(counted(first([]))).toBe(false);
    expect(counted({ content: "x", choices: "text" })).toBe(false);
  });
});
