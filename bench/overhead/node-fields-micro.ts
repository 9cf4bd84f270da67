/**
 * chunkFields (src/proxy/frame-fields.ts, the SSE tap's per-frame scan) against a variant, in
 * one process, over the overhead benchmark's stream (bodies.ts STREAM_EVENTS: role, 20
 * tokens, finish, usage, [DONE]), each frame scanned as the tap does (from `data: ` to the
 * frame's end). Batches alternate A B A B; prints ns a stream per batch, the medians and how
 * many paired batches the variant was lower in (issue 19, thirteenth pass, node-streams).
 *
 *   node --import tsx bench/overhead/node-fields-micro.ts      (V8)
 *   npx bun bench/overhead/node-fields-micro.ts                (JSC)
 */
import { chunkFields as current } from "../../src/proxy/frame-fields.ts";
import { STREAM_EVENTS } from "./bodies.ts";

const BEFORE = process.env["FIELDS_BEFORE"];
const before: typeof current = BEFORE ? (await import(BEFORE)).chunkFields : current;
const enc = new TextEncoder();
const all = enc.encode(STREAM_EVENTS.join(""));
const hay = typeof Buffer === "undefined" ? all : Buffer.from(all.buffer, all.byteOffset, all.byteLength);
/** Each frame's [from, to): the tap scans a frame without its blank line. */
const ranges: number[] = [];
let at = 0;
for (const e of STREAM_EVENTS) {
  ranges.push(at, at + e.length - 2);
  at += e.length;
}

function run(f: typeof current, streams: number): number {
  let sink = 0;
  const t0 = performance.now();
  for (let s = 0; s < streams; s++)
    for (let i = 0; i < ranges.length; i += 2) sink += f(hay, ranges[i]!, ranges[i + 1]!);
  const ns = ((performance.now() - t0) * 1e6) / streams;
  if (sink === -1) console.log(sink);
  return ns;
}

for (let i = 0; i < ranges.length; i += 2)
  if (current(hay, ranges[i]!, ranges[i + 1]!) !== before(hay, ranges[i]!, ranges[i + 1]!))
    throw new Error(`differ at frame ${i / 2}`);
for (let w = 0; w < 5; w++) {
  run(before, 20_000);
  run(current, 20_000);
}
const a: number[] = [];
const b: number[] = [];
for (let r = 0; r < 15; r++) {
  if (r % 2 === 0) {
    a.push(run(before, 50_000));
    b.push(run(current, 50_000));
  } else {
    b.push(run(current, 50_000));
    a.push(run(before, 50_000));
  }
}
const med = (x: number[]) => [...x].sort((p, q) => p - q)[x.length >> 1]!;
console.log(`before ${a.map((x) => x.toFixed(0)).join(" ")}`);
console.log(`after  ${b.map((x) => x.toFixed(0)).join(" ")}`);
console.log(
  `ns a stream, median before ${med(a).toFixed(0)} after ${med(b).toFixed(0)}; after lower in ${a.filter((x, i) => b[i]! < x).length} of ${a.length}`,
);
