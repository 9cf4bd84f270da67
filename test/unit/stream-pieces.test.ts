/**
 * The stream path's shapes that make no per-stream objects (issue 19, fourteenth pass): pieces
 * sent without an async frame while the destination takes them, a whole stream's tapped bytes
 * without a list, the framer's lists made only when used (shared empty ones never written),
 * one last-event check per dialect, and the accounting timed by a clock object.
 */
import { describe, expect, test } from "bun:test";
import { endsStream, endsStreamOf, SseAccounting } from "../../src/proxy/accounting.ts";
import { type DirectController, send, tappedWhole } from "../../src/proxy/relay.ts";
import { SseFramer } from "../../src/proxy/sse-framer.ts";
import { contentFrame } from "../helpers/sse-frames.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A direct controller that records calls; the writes listed in `full` wait for `room()`. */
function fake(full: readonly string[] = []) {
  const calls: string[] = [];
  let room: () => void = () => {};
  const controller: DirectController = {
    write: (b) => {
      const text = dec.decode(b);
      calls.push(`write ${text}`);
      if (!full.includes(text)) return b.byteLength;
      return new Promise<number>((r) => (room = () => r(b.byteLength)));
    },
    flush: () => {
      calls.push("flush");
      return 0;
    },
    close: () => calls.push("close"),
  };
  return { controller, calls, room: () => room() };
}

const pieces = (...s: string[]) => s.map((x) => enc.encode(x));

describe("pieces to a direct stream", () => {
  test("taken at once: written and flushed in order, no promise", () => {
    const f = fake();
    expect(send(f.controller, pieces("a", "b", "c"), true)).toBeUndefined();
    expect(f.calls).toEqual(["write a", "write b", "write c", "flush"]);
    const g = fake();
    expect(send(g.controller, pieces("a", "b"), false)).toBeUndefined();
    expect(g.calls).toEqual(["write a", "write b"]);
  });

  test("a full destination: a promise, the rest written as it settles, then the flush", async () => {
    const f = fake(["b"]);
    const waiting = send(f.controller, pieces("a", "b", "c"), true);
    expect(waiting).toBeInstanceOf(Promise);
    expect(f.calls).toEqual(["write a", "write b"]);
    f.room();
    await waiting;
    expect(f.calls).toEqual(["write a", "write b", "write c", "flush"]);
  });

  test("a write that throws throws from send (the relay's catch ends the stream as an error)", () => {
    const controller: DirectController = {
      write: () => {
        throw new Error("gone");
      },
      flush: () => 0,
      close: () => {},
    };
    expect(() => send(controller, pieces("a", "b"), true)).toThrow("gone");
  });
});

describe("tappedWhole's shapes", () => {
  const tapOf = (chunk: (b: Uint8Array) => Uint8Array | Uint8Array[] | undefined, rest?: string) => ({
    chunk,
    flush: () => (rest === undefined ? undefined : enc.encode(rest)),
  });

  test("the chunk as it came, nothing held back: the same bytes object", () => {
    const bytes = enc.encode("data: a\n\n");
    expect(
      tappedWhole(
        bytes,
        tapOf((b) => b),
      ),
    ).toBe(bytes);
    expect(
      tappedWhole(
        bytes,
        tapOf((b) => b, ""),
      ),
    ).toBe(bytes);
  });

  test("pieces, a held-back rest, or nothing: joined in order", () => {
    const bytes = enc.encode("ab-cd");
    const split = (b: Uint8Array) => [b.subarray(0, 2), b.subarray(3)];
    expect(dec.decode(tappedWhole(bytes, tapOf(split)))).toBe("abcd");
    expect(dec.decode(tappedWhole(bytes, tapOf(split, "!")))).toBe("abcd!");
    expect(
      dec.decode(
        tappedWhole(
          bytes,
          tapOf((b) => b, "!"),
        ),
      ),
    ).toBe("ab-cd!");
    expect(
      dec.decode(
        tappedWhole(
          bytes,
          tapOf(() => undefined, "!"),
        ),
      ),
    ).toBe("!");
    expect(
      tappedWhole(
        bytes,
        tapOf(() => undefined),
      ).byteLength,
    ).toBe(0);
    expect(
      tappedWhole(
        bytes,
        tapOf(() => []),
      ).byteLength,
    ).toBe(0);
  });
});

describe("the framer's lists, made only when used", () => {
  const dropping = () =>
    new SseFramer(
      { frame: (b, s, e) => (dec.decode(b.subarray(s, e)).includes("drop") ? null : undefined) },
      true,
    );
  const text = (p: Uint8Array | readonly Uint8Array[] | undefined) =>
    p === undefined ? "" : p instanceof Uint8Array ? dec.decode(p) : p.map((x) => dec.decode(x)).join("");

  test("one framer's pieces and held frames never show in another's", () => {
    const a = dropping();
    const b = dropping();
    // a: pieces around a dropped frame, then a frame split across chunks.
    expect(text(a.push(enc.encode("data: 1\n\ndata: drop\n\ndata: 2\n\n")))).toBe("data: 1\n\ndata: 2\n\n");
    expect(text(a.push(enc.encode("data: 3\n\ndata: ha")))).toBe("data: 3\n\n");
    // b, meanwhile: a chunk of whole frames that all stay goes out as the same object.
    const whole = enc.encode("data: x\n\n");
    expect(b.push(whole)).toBe(whole);
    expect(text(b.push(enc.encode("data: y\n\ndata: drop\n\n")))).toBe("data: y\n\n");
    // a's held half comes back whole; b holds nothing.
    expect(text(a.push(enc.encode("lf\n\ndata: drop\n\ndata: 4\n\n")))).toBe("data: half\n\ndata: 4\n\n");
    expect(b.end()).toBeUndefined();
    expect(text(b.push(enc.encode("data: z")))).toBe("");
    expect(text(b.end())).toBe("data: z");
    // A fresh framer after all that: nothing of theirs.
    const c = dropping();
    const next = enc.encode("data: w\n\n");
    expect(c.push(next)).toBe(next);
    expect(c.end()).toBeUndefined();
  });

  test("a tap-mode framer shows a split frame whole and passes every chunk as it came", () => {
    const seen: string[] = [];
    const f = new SseFramer({ frame: (b, s, e) => void seen.push(dec.decode(b.subarray(s, e))) }, false);
    const one = enc.encode("data: a");
    const two = enc.encode("b\n\ndata: c\n\n");
    expect(f.push(one)).toBe(one);
    expect(f.push(two)).toBe(two);
    expect(seen).toEqual(["data: ab\n\n", "data: c\n\n"]);
  });
});

describe("the last event's check, one per dialect", () => {
  test("the same answers as endsStream, one function per dialect", () => {
    const chunks = [
      "data: {}\n\ndata: [DONE]\n\n",
      "data: {}\n\n",
      "event: message_stop\ndata: {}\n\n",
      "event: response.completed\ndata: {}\n\n",
      "event: response.output_text.delta\ndata: {}\n\n",
    ].map((s) => enc.encode(s));
    for (const kind of ["chat", "completions", "responses", "messages", "unknown-kind"])
      for (const c of chunks) expect(endsStreamOf(kind)(c)).toBe(endsStream(kind, c));
    expect(endsStreamOf("chat")).toBe(endsStreamOf("completions"));
    expect(endsStreamOf("chat")).not.toBe(endsStreamOf("messages"));
  });
});

describe("the accounting timed by a clock object", () => {
  test("content frames read `clock.now()`; neither a clock nor `now` is refused", () => {
    let t = 5;
    const clock = { now: () => t };
    const a = new SseAccounting({ kind: "chat", clock });
    a.chunk(enc.encode(contentFrame("a")));
    t = 12;
    a.chunk(enc.encode(contentFrame("b")));
    expect(a.result).toMatchObject({
      firstTokenAt: 5,
      lastTokenAt: 12,
      contentEvents: 2,
      maxInterTokenMs: 7,
    });
    expect(() => new SseAccounting({ kind: "chat" })).toThrow(TypeError);
  });
});
