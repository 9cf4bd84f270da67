import { describe, expect, test } from "bun:test";
import { type FrameVerdict, type Pieces, SseFramer } from "../../src/proxy/sse-framer.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
/** What the client gets from one push: one array or pieces in order. */
const text = (o: Pieces) =>
  o instanceof Uint8Array ? dec.decode(o) : (o ?? []).map((p) => dec.decode(p)).join("");

/** Feeds `chunks`, returns the frames `visit` saw and what the client got. */
function run(
  chunks: string[],
  opts: { aligned: boolean; verdict?: (f: string) => FrameVerdict; max?: number },
) {
  const seen: string[] = [];
  const framer = new SseFramer(
    {
      frame: (buf, start, end) => {
        const text = dec.decode(buf.subarray(start, end));
        seen.push(text);
        return opts.verdict?.(text);
      },
    },
    opts.aligned,
    opts.max,
  );
  let out = "";
  const outs: Pieces[] = [];
  for (const c of chunks) {
    const bytes = enc.encode(c);
    const o = framer.push(bytes);
    outs.push(o);
    out += text(o);
  }
  const rest = framer.end();
  if (rest) out += dec.decode(rest);
  return { seen, out, outs };
}

/** Every way of cutting `text` into two chunks, plus one byte at a time. */
function splits(text: string): string[][] {
  const all: string[][] = [[text]];
  for (let i = 1; i < text.length; i++) all.push([text.slice(0, i), text.slice(i)]);
  all.push([...text]);
  return all;
}

describe("SseFramer: frame boundaries", () => {
  const cases: [string, string[]][] = [
    ["LF", ["data: a\n\n", "data: b\n\n"]],
    ["CRLF", ["data: a\r\n\r\n", "data: b\r\n\r\n"]],
    ["CRLF then LF", ["data: a\r\n\n", "event: x\r\ndata: b\n\n"]],
    ["LF then CRLF", ["data: a\n\r\n", "data: b\n\r\n"]],
    ["bare CR", ["data: a\r\r", "data: b\r\r"]],
    ["multi-line event", ["event: e\ndata: 1\ndata: 2\n\n", ": comment\ndata: b\n\n"]],
  ];
  for (const [name, frames] of cases) {
    test(`${name}: the same frames at every split point, bytes passed through`, () => {
      const whole = frames.join("");
      for (const chunks of splits(whole)) {
        for (const aligned of [false, true]) {
          const { seen, out } = run(chunks, { aligned });
          expect(seen).toEqual(frames);
          expect(out).toBe(whole);
        }
      }
    });
  }

  test("tap mode returns every chunk object as it came, at once", () => {
    const framer = new SseFramer({ frame: () => null }, false);
    const a = enc.encode("data: a\n\nda");
    const b = enc.encode("ta: b\n\n");
    expect(framer.push(a)).toBe(a);
    expect(framer.push(b)).toBe(b);
  });

  test("aligned mode returns the very chunk when it is whole frames that stay", () => {
    const framer = new SseFramer({ frame: () => undefined }, true);
    const a = enc.encode("data: a\n\ndata: b\n\n");
    expect(framer.push(a)).toBe(a);
  });

  test("aligned mode holds a partial frame until it ends", () => {
    const { outs } = run(["data: a\n\nda", "ta: b\n", "\n"], { aligned: true });
    expect(outs.map((o) => (o ? text(o) : undefined))).toEqual(["data: a\n\n", undefined, "data: b\n\n"]);
  });

  test("a dropped frame is cut out wherever the chunks split", () => {
    const whole = "data: a\r\n\r\ndata: DROP\n\ndata: c\r\n\r\n";
    for (const chunks of splits(whole)) {
      const { out } = run(chunks, { aligned: true, verdict: (f) => (f.includes("DROP") ? null : undefined) });
      expect(out).toBe("data: a\r\n\r\ndata: c\r\n\r\n");
    }
  });

  test("a frame dropped mid-chunk leaves the pieces around it as views of the chunk, not a copy", () => {
    const framer = new SseFramer(
      { frame: (b, s, e) => (dec.decode(b.subarray(s, e)).includes("DROP") ? null : undefined) },
      true,
    );
    const chunk = enc.encode("data: a\n\ndata: DROP\n\ndata: c\n\n");
    const out = framer.push(chunk);
    expect(Array.isArray(out)).toBe(true);
    const pieces = out as readonly Uint8Array[];
    expect(pieces.map((p) => dec.decode(p))).toEqual(["data: a\n\n", "data: c\n\n"]);
    for (const p of pieces) expect(p.buffer).toBe(chunk.buffer);
  });

  test("a replaced frame goes out in place of the original", () => {
    const whole = "data: a\n\ndata: b\n\n";
    for (const chunks of splits(whole)) {
      const { out } = run(chunks, {
        aligned: true,
        verdict: (f) => (f.includes("b") ? enc.encode("data: B!\n\n") : undefined),
      });
      expect(out).toBe("data: a\n\ndata: B!\n\n");
    }
  });

  test("a last frame without its blank line is shown and sent at the end", () => {
    const { seen, out } = run(["data: a\n\ndata: b"], { aligned: true });
    expect(seen).toEqual(["data: a\n\n", "data: b"]);
    expect(out).toBe("data: a\n\ndata: b");
  });

  test("a frame over the limit passes through unseen, and framing goes on after it", () => {
    const big = `data: ${"x".repeat(100)}\n\n`;
    const whole = `data: a\n\n${big}data: c\n\n`;
    for (const chunks of [[whole], [...whole], [whole.slice(0, 30), whole.slice(30)]]) {
      for (const aligned of [false, true]) {
        const { seen, out } = run(chunks, { aligned, max: 50 });
        expect(out).toBe(whole);
        expect(seen.filter((f) => f.includes("x"))).toEqual(chunks.length > 2 ? [] : [big]);
        expect(seen).toContain("data: c\n\n");
      }
    }
  });
});
