import { describe, expect, test } from "bun:test";
import { SseAccounting } from "../../src/proxy/accounting.ts";
import { nextUsageObject } from "../../src/proxy/frame-fields.ts";
import { frameJson, frameJsonIn } from "../../src/proxy/sse-frame.ts";
import type { Pieces } from "../../src/proxy/sse-framer.ts";
import { chatStream, contentFrame, DONE, roleFrame, type Usage, usageFrame } from "../helpers/sse-frames.ts";

/**
 * SseAccounting.whole (issue 19, fifteenth pass): a stream that came whole, tapped in one pass
 * with the usage objects found by one search, gives the client the same bytes and the
 * accounting the same result as `chunk` then `flush` (the framer's path), for any stream.
 */

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A clock that moves 1 ms a read: a second read for the same chunk would show. */
function steppingClock() {
  let t = 1000;
  return { now: () => t++ };
}

const join = (out: Pieces, rest: Uint8Array | undefined): string =>
  (out === undefined
    ? ""
    : out instanceof Uint8Array
      ? dec.decode(out)
      : out.map((p) => dec.decode(p)).join("")) + (rest ? dec.decode(rest) : "");

/** The framer's path and the whole pass over `text`, each on a fresh accounting. */
function both(text: string, drop: boolean) {
  const bytes = enc.encode(text);
  const general = new SseAccounting({ kind: "chat", clock: steppingClock(), dropUsageEvent: drop });
  const viaFramer = join(general.chunk(bytes), general.flush());
  const fast = new SseAccounting({ kind: "chat", clock: steppingClock(), dropUsageEvent: drop });
  const out = fast.whole(bytes);
  return { bytes, viaFramer, general: general.result, out, fast: fast.result };
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

const data = (obj: unknown) => `data: ${JSON.stringify(obj)}`;
const usage: Usage = {
  prompt_tokens: 12,
  completion_tokens: 7,
  total_tokens: 19,
  prompt_tokens_details: { cached_tokens: 4 },
};

/** One random frame's text (without its blank line). */
function randomFrame(r: () => number): string {
  const k = Math.floor(r() * 15);
  const text = r() < 0.2 ? "" : r() < 0.1 ? '"usage":{"x":1}' : " tok";
  switch (k) {
    case 0:
      return data({ id: "c", object: "chat.completion.chunk", model: "m", choices: [], usage });
    case 1:
      return data({ id: "c", choices: [{ index: 0, delta: { content: "hi" } }], usage }); // text and usage
    case 2:
      return "data: [DONE]";
    case 3:
      return ": keep-alive";
    case 4:
      return `event: x\n${data({ choices: [{ delta: { content: text } }] })}`; // two lines: the slow parse
    case 5:
      return data({ choices: [{ delta: { reasoning_content: text } }] });
    case 6:
      return data({ choices: [{ text }] }); // completions
    case 7:
      return `data: {"usage":{"prompt_tokens":1,"completion_tokens":2}, "choices": []}`;
    case 8:
      return `data: {"choices":[{"delta":{"content":"x"}}],"note":"usage\\":{"}`; // the key inside a string
    case 9:
      return data({ choices: [], usage: null }); // "usage":null: no object
    case 10:
      return `data:${JSON.stringify({ choices: [{ delta: { content: "no space" } }] })}`;
    case 11:
      return `data: {"choices":[{"delta":{"content":""}}]}`; // empty text
    case 12:
      return "data: not json";
    case 13:
      return 'data: {"choices":[],"usage":{'; // cut short: the key's `{` as the stream's last byte
    default:
      return data({
        id: "c",
        choices: [{ index: 0, delta: { content: text }, logprobs: null, finish_reason: null }],
      });
  }
}

function randomStream(r: () => number): string {
  let s = r() < 0.1 ? "\n" : "";
  const n = Math.floor(r() * 12);
  for (let i = 0; i < n; i++) s += `${randomFrame(r)}\n\n`;
  const end = r();
  if (end < 0.15)
    s += randomFrame(r); // a last frame without its blank line
  else if (end < 0.25)
    s += `${randomFrame(r)}\n`; // … or with half of it
  else if (end < 0.3) s += "\n\n\n"; // blank lines on their own
  return s;
}

describe("SseAccounting.whole", () => {
  test("sse32's stream: the usage frame dropped, the same bytes and result as the framer's path", () => {
    const text = roleFrame() + chatStream(20, { usage });
    const x = both(text, true);
    expect(x.out).toBeDefined();
    expect(dec.decode(x.out)).toBe(x.viaFramer);
    expect(dec.decode(x.out)).toBe(text.replace(usageFrame(usage), ""));
    expect(x.fast).toEqual(x.general);
    expect(x.fast.contentEvents).toBe(20);
    expect(x.fast.usage).toEqual({ promptTokens: 12, completionTokens: 7, cachedTokens: 4 });
    expect(x.fast.firstTokenAt).toBe(1000); // one clock read for the chunk
    expect(x.fast.lastTokenAt).toBe(1000);
  });

  test("nothing dropped: the stream itself, no copy", () => {
    const x = both(chatStream(["a"], { usage }), false);
    expect(x.out).toBe(x.bytes);
    expect(x.fast).toEqual(x.general);
  });

  test("5,000 generated streams: the same bytes and the same result as chunk then flush", () => {
    const r = rng(19);
    let dropped = 0;
    let tails = 0;
    for (let i = 0; i < 5000; i++) {
      const text = randomStream(r);
      const drop = r() < 0.7;
      const x = both(text, drop);
      expect(x.out).toBeDefined();
      expect(dec.decode(x.out)).toBe(x.viaFramer);
      expect(x.fast).toEqual(x.general);
      if (x.out!.length < x.bytes.length) dropped++;
      if (!text.endsWith("\n\n") && text !== "") tails++;
    }
    // The generator reaches the cases that matter.
    expect(dropped).toBeGreaterThan(500);
    expect(tails).toBeGreaterThan(500);
  });

  test("in place (the pod client's own bytes): the same bytes and result, cut in the input itself", () => {
    const r = rng(23);
    let inPlace = 0;
    for (let i = 0; i < 5000; i++) {
      const text = randomStream(r);
      const drop = r() < 0.7;
      const x = both(text, drop);
      const own = enc.encode(text);
      const acc = new SseAccounting({ kind: "chat", clock: steppingClock(), dropUsageEvent: drop });
      const out = acc.whole(own, true)!;
      expect(dec.decode(out)).toBe(dec.decode(x.out));
      expect(acc.result).toEqual(x.fast);
      if (out.length < own.length) {
        // A view of the input's start, the runs after the cut moved down in it: no new array.
        expect(out.buffer).toBe(own.buffer);
        expect(out.byteOffset).toBe(own.byteOffset);
        inPlace++;
      } else expect(out).toBe(own);
    }
    expect(inPlace).toBeGreaterThan(500);
  });

  test("in place, sse32's stream: the [DONE] after the usage frame moved over it; not in place: the input untouched", () => {
    const long = `: ${"x".repeat(100)}\n\n`; // a run after the cut longer than the loop's (copyWithin)
    const text = contentFrame(" tok").repeat(3) + usageFrame(usage) + long + DONE;
    const expected = text.replace(usageFrame(usage), "");
    const own = enc.encode(text);
    const out = new SseAccounting({ kind: "chat", clock: steppingClock(), dropUsageEvent: true }).whole(
      own,
      true,
    )!;
    expect(dec.decode(out)).toBe(expected);
    expect(dec.decode(own.subarray(0, out.length))).toBe(expected);
    const kept = enc.encode(text);
    const copy = new SseAccounting({ kind: "chat", clock: steppingClock(), dropUsageEvent: true }).whole(
      kept,
    )!;
    expect(dec.decode(copy)).toBe(expected);
    expect(dec.decode(kept)).toBe(text);
    expect(copy.buffer).not.toBe(kept.buffer);
  });

  test("the framer's path where the pass does not apply, with nothing done", () => {
    const text = contentFrame("a", "\r\n");
    const crlf = new SseAccounting({ kind: "chat", clock: steppingClock(), dropUsageEvent: true });
    expect(crlf.whole(enc.encode(text))).toBeUndefined();
    expect(crlf.result.responseBytes).toBe(0);
    const renaming = new SseAccounting({ kind: "chat", clock: steppingClock(), renameTo: "x" });
    expect(renaming.whole(enc.encode("data: {}\n\n"))).toBeUndefined();
    const messages = new SseAccounting({ kind: "messages", clock: steppingClock() });
    expect(messages.whole(enc.encode("data: {}\n\n"))).toBeUndefined();
    const used = new SseAccounting({ kind: "chat", clock: steppingClock() });
    used.chunk(enc.encode("data: {}\n\n"));
    expect(used.whole(enc.encode("data: {}\n\n"))).toBeUndefined();
  });
});

describe("nextUsageObject", () => {
  test('every `"usage":{` in order, as a byte-by-byte search finds them', () => {
    const r = rng(7);
    for (let i = 0; i < 2000; i++) {
      let s = "";
      const n = Math.floor(r() * 30);
      for (let j = 0; j < n; j++)
        s += ['"usage":{', '"usage":', "usage", "g", "{", '"', "xx", '"usage":{}'][Math.floor(r() * 8)];
      const bytes = enc.encode(s);
      const want: number[] = [];
      for (let at = s.indexOf('"usage":{'); at !== -1; at = s.indexOf('"usage":{', at + 1)) want.push(at);
      const got: number[] = [];
      for (let at = nextUsageObject(bytes, 0); at !== -1; at = nextUsageObject(bytes, at + 1)) got.push(at);
      expect(got).toEqual(want);
    }
  });
});

describe("frameJsonIn", () => {
  test("the same as frameJson of the frame's view, for frames anywhere in a buffer", () => {
    const frames = [
      'data: {"a":1}\n\n',
      'data:{"a":2}\n\n',
      'data: {"a":3}\r\n\r\n',
      'data: {"a":4}',
      'data: {"a":5}\n',
      'event: e\ndata: {"a":6}\n\n',
      'data: {"a":\ndata: 7}\n\n',
      "data: [DONE]\n\n",
      "data:",
      "data: ",
      "dat",
      ": note\n\n",
      'data: {"a":8}\n\nx',
    ];
    for (const f of frames)
      for (const before of ["", "data: {}\n\n", "xx"])
        for (const after of ["", "data: {}\n\n", "\r\n"]) {
          const buf = enc.encode(before + f + after);
          const start = enc.encode(before).length;
          const end = start + enc.encode(f).length;
          const want = frameJson(buf.subarray(start, end));
          expect(frameJsonIn(buf, start, end)).toEqual(want);
          if (!(before + f + after).includes("\r")) expect(frameJsonIn(buf, start, end, true)).toEqual(want);
        }
  });
});
