/**
 * The SSE tap's pieces over sse32's whole stream, in a hot loop (issue 19, sixteenth pass,
 * "tap"): ns a stream for each piece of SseAccounting.whole, to see where its time goes. (The
 * byte walk it was written beside, chunk-scan.ts, was measured and reverted: overhead-streaming.md.)
 *
 *   npx bun bench/overhead/tap-pieces.ts
 *   node --import tsx bench/overhead/tap-pieces.ts
 */
import { SseAccounting } from "../../src/proxy/accounting.ts";
import { indexOfByte, indexOfSequence } from "../../src/proxy/byte-index.ts";
import { nextUsageObject, textField } from "../../src/proxy/frame-fields.ts";
import { frameJsonIn } from "../../src/proxy/sse-frame.ts";
import { STREAM_EVENTS } from "./bodies.ts";

const whole = new TextEncoder().encode(STREAM_EVENTS.join(""));
const LF = 0x0a;
const frames: [number, number][] = [];
for (let s = 0, i = 0; i < whole.length; ) {
  const lf = indexOfByte(whole, LF, i);
  if (lf === -1) break;
  if (whole[lf + 1] === LF) {
    frames.push([s, lf + 2]);
    s = i = lf + 2;
  } else i = lf + 1;
}
const usageFrame = frames.find(([s, e]) =>
  new TextDecoder().decode(whole.subarray(s, e)).includes('"usage"'),
)!;
const firstText = frames.find(([s, e]) => textField(whole, s, e))!;
const clock = { now: () => 1 };
const DD = new Uint8Array([LF, LF]);
let sink = 0;
const pieces: Record<string, () => void> = {
  "whole (drop)": () => {
    const t = new SseAccounting({ kind: "chat", clock, dropUsageEvent: true });
    sink += t.whole(whole)!.length;
  },
  "CR test": () => (sink += indexOfByte(whole, 0x0d, 0)),
  "LF walk": () => {
    let lineStart = true;
    for (let i = 0; i < whole.length; ) {
      const lf = whole[i] === LF ? i : indexOfByte(whole, LF, i);
      if (lf === -1) break;
      if (lf > i) lineStart = false;
      i = lf + 1;
      if (!lineStart) lineStart = true;
      else sink++;
    }
  },
  "LFLF walk": () => {
    if (indexOfSequence === undefined) return;
    for (let i = indexOfSequence.call(whole, DD, 0); i !== -1; i = indexOfSequence.call(whole, DD, i + 1))
      sink++;
  },
  "textField a frame": () => {
    for (const [s, e] of frames) if (textField(whole, s, e)) sink++;
  },
  "usage search": () => {
    for (let at = nextUsageObject(whole, 0); at !== -1; at = nextUsageObject(whole, at + 1)) sink++;
  },
  "parse usage frame": () => (sink += frameJsonIn(whole, usageFrame[0], usageFrame[1], true) ? 1 : 0),
  "parse first text": () => (sink += frameJsonIn(whole, firstText[0], firstText[1], true) ? 1 : 0),
};
const N = 20000;
for (let round = 0; round < 5; round++) {
  const line: string[] = [];
  for (const [name, run] of Object.entries(pieces)) {
    for (let i = 0; i < 2000; i++) run();
    const t0 = performance.now();
    for (let i = 0; i < N; i++) run();
    line.push(`${name} ${(((performance.now() - t0) * 1e6) / N).toFixed(0)}`);
  }
  if (round > 0) console.log(line.join(" | "));
}
console.log(`frames ${frames.length}, bytes ${whole.length}`, sink > 0 ? "" : "-");
