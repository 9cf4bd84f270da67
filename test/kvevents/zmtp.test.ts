import { describe, expect, test } from "bun:test";
import {
  checkGreeting,
  encodeFrame,
  encodeMessage,
  FrameReader,
  greeting,
  MAX_FRAME_BYTES,
  parseCommand,
  readyCommand,
  readySocketType,
} from "../../src/kvevents/zmtp.ts";

describe("ZMTP 3 framing", () => {
  test("greeting: signature, version 3.0, NULL mechanism; a peer's bad greeting says what is wrong", () => {
    const g = greeting();
    expect(g.length).toBe(64);
    expect([g[0], g[9], g[10], g[11]]).toEqual([0xff, 0x7f, 3, 0]);
    expect(checkGreeting(g)).toBeUndefined();
    const curve = greeting();
    curve.set(new TextEncoder().encode("CURVE"), 12);
    expect(checkGreeting(curve)).toMatch(/mechanism CURVE/);
    expect(checkGreeting(new Uint8Array(64))).toMatch(/not a ZMTP greeting/);
  });

  test("READY carries the socket type as a property", () => {
    const frame = readyCommand("SUB");
    expect(frame[0]).toBe(4); // COMMAND
    const { name, data } = parseCommand(frame.subarray(2));
    expect(name).toBe("READY");
    expect(readySocketType(data)).toBe("SUB");
  });

  test("short and long frames survive being cut into any chunks", () => {
    const big = new Uint8Array(70_000).map((_, i) => i & 0xff);
    const bytes = encodeMessage([new TextEncoder().encode("kv@p@m"), Uint8Array.of(1, 2, 3), big]);
    for (const step of [1, 7, 64, 4096, bytes.length]) {
      const r = new FrameReader();
      const frames = [];
      for (let at = 0; at < bytes.length; at += step) {
        r.push(bytes.subarray(at, at + step));
        for (let f = r.frame(); f; f = r.frame()) frames.push(f);
      }
      expect(frames.map((f) => [f.more, f.body.length])).toEqual([
        [true, 6],
        [true, 3],
        [false, 70_000],
      ]);
      expect(frames[2]!.body[69_999]).toBe(69_999 & 0xff);
    }
  });

  test("a frame announcing more than 16 MiB is refused before any of it is buffered", () => {
    const head = encodeFrame(new Uint8Array(300)).subarray(0, 9);
    new DataView(head.buffer, head.byteOffset).setBigUint64(1, BigInt(MAX_FRAME_BYTES + 1));
    const r = new FrameReader();
    r.push(head);
    expect(() => r.frame()).toThrow(/exceeds/);
  });
});
