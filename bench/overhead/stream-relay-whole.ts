/**
 * The relay's direct shape over a stream that arrived whole (sse32's answer: one chunk, then
 * the end, both reads settled when made), with the accounting tap and the idle watch on real
 * timers, against an earlier tree (BENCH_BASELINE): what the Node entry runs per sse32 stream
 * besides the sockets (issue 19, eleventh pass: the idle timer set only for a read that waits,
 * the tap's byte searches). Batches interleaved, best and median of BENCH_ROUNDS (default 9).
 *
 *   BENCH_BASELINE=/tmp/base node --import tsx bench/overhead/stream-relay-whole.ts
 *   BENCH_BASELINE=/tmp/base bun bench/overhead/stream-relay-whole.ts
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { STREAM_EVENTS } from "./bodies.ts";

const BASE = process.env["BENCH_BASELINE"];
if (!BASE) throw new Error("set BENCH_BASELINE to an earlier tree (with node_modules)");
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 9);
const N = Number(process.env["BENCH_N"] ?? 20_000);
const enc = new TextEncoder();
const whole = enc.encode(STREAM_EVENTS.join(""));

type Mod = { relay: (s: unknown, o: object) => unknown };
type Acc = new (o: object) => unknown;
async function load(root: string) {
  const url = (p: string) => pathToFileURL(join(root, p)).href;
  const { relay } = (await import(url("src/proxy/relay.ts"))) as Mod;
  const { SseAccounting } = (await import(url("src/proxy/accounting.ts"))) as { SseAccounting: Acc };
  return { relay, SseAccounting };
}

/** One stream: the relay's direct pull over [whole, end] to a controller that takes everything. */
function stream(m: Awaited<ReturnType<typeof load>>): Promise<void> {
  let n = 0;
  const source = {
    read: () => Promise.resolve(n++ === 0 ? { done: false, value: whole } : { done: true, value: undefined }),
    cancel: async () => {},
  };
  let pull: ((c: object) => Promise<void>) | undefined;
  m.relay(source, {
    sse: true,
    tap: new m.SseAccounting({ kind: "chat", now: () => performance.now(), dropUsageEvent: true }),
    idleTimeoutMs: 60_000,
    onEnd: () => {},
    abortUpstream: () => {},
    direct: (s: { pull(c: object): Promise<void> }) => {
      pull = (c) => s.pull(c);
      return {};
    },
  });
  return pull!({ write: (b: Uint8Array) => b.byteLength, flush: () => 0, close: () => {} });
}

async function batch(m: Awaited<ReturnType<typeof load>>): Promise<number> {
  const t = process.cpuUsage();
  for (let i = 0; i < N; i++) await stream(m);
  const d = process.cpuUsage(t);
  return (d.user + d.system) / N;
}

const here = await load(join(import.meta.dirname, "../.."));
const base = await load(BASE);
for (let i = 0; i < 3; i++) {
  await batch(base);
  await batch(here);
}
const a: number[] = [];
const b: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  if (r % 2) {
    b.push(await batch(here));
    a.push(await batch(base));
  } else {
    a.push(await batch(base));
    b.push(await batch(here));
  }
}
const med = (x: number[]) => [...x].sort((p, q) => p - q)[x.length >> 1]!;
const rt = typeof Bun !== "undefined" ? `Bun ${Bun.version}` : `Node ${process.version}`;
console.log(
  `${rt}: relay + tap over a whole stream (µs CPU a stream), before → after: best ${Math.min(...a).toFixed(2)} → ${Math.min(...b).toFixed(2)}, median ${med(a).toFixed(2)} → ${med(b).toFixed(2)}; lower in ${a.filter((x, i) => b[i]! < x).length} of ${ROUNDS} rounds`,
);
