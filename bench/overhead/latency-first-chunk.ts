/**
 * The tap's share of the first byte (in process, hot): SseAccounting over a stream's first
 * chunk (one content frame, as a pod sends it) for a new stream, against the same chunk
 * once the first token is known (the byte test alone); then the read of the result, where
 * the tenth pass's deferred parse of the first frame runs. `BENCH_BASELINE=<tree>` times
 * that tree's accounting instead.
 *
 *   bun bench/overhead/latency-first-chunk.ts
 */
import { resolve } from "node:path";

const root = process.env["BENCH_BASELINE"] ?? resolve(import.meta.dir, "../..");
const { SseAccounting } = (await import(
  resolve(root, "src/proxy/accounting.ts")
)) as typeof import("../../src/proxy/accounting.ts");

const enc = new TextEncoder();
const FIRST = enc.encode(
  `data: ${JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: { role: "assistant", content: "Hello" }, logprobs: null, finish_reason: null }] })}\n\n`,
);
const N = 100_000;
let sink = 0;
/**
 * µs a stream: the first chunk's tap (what the first write waits for), then reading the
 * result (where a first frame still to confirm is parsed, after the write), timed apart.
 */
function run(known: boolean): [number, number] {
  const taps = Array.from({ length: N }, (_, i) => {
    const a = new SseAccounting({ kind: "chat", now: () => i, dropUsageEvent: true });
    if (known) a.result.firstTokenAt = 0;
    return a;
  });
  const t0 = performance.now();
  for (const a of taps) sink += a.chunk(FIRST) === undefined ? 0 : 1;
  const t1 = performance.now();
  for (const a of taps) sink += a.result.contentEvents;
  const t2 = performance.now();
  return [((t1 - t0) * 1000) / N, ((t2 - t1) * 1000) / N];
}
const SECOND = FIRST.slice();
/** µs a stream of two chunks (the first confirmed in the second's tap): the CPU, not the wait. */
function both(): number {
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const a = new SseAccounting({ kind: "chat", now: () => i, dropUsageEvent: true });
    sink += a.chunk(FIRST) === undefined ? 0 : 1;
    sink += a.chunk(SECOND) === undefined ? 0 : 1;
    sink += a.result.contentEvents;
  }
  return ((performance.now() - t0) * 1000) / N;
}
for (let r = 0; r < 7; r++) {
  const [a, a2] = run(false);
  const [b] = run(true);
  console.log(
    `first chunk's tap, new stream ${a.toFixed(3)} µs (then the result read ${a2.toFixed(3)}); first token already known ${b.toFixed(3)} µs; two chunks and the result ${both().toFixed(3)} µs`,
  );
}
if (sink === -1) console.log(sink);
