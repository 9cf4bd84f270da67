/**
 * The tap over a stream that came whole (sse32's shape, respond's bytes path: `tappedWhole`
 * with the gateway's SseAccounting), this tree against an earlier one (BENCH_BASELINE), best
 * of interleaved batches, µs a stream (issue 19, fifteenth pass: SseAccounting.whole).
 *
 *   BENCH_BASELINE=/tmp/base15 npx bun bench/overhead/streams-whole-micro.ts
 *   BENCH_BASELINE=/tmp/base15 node --import tsx bench/overhead/streams-whole-micro.ts
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { STREAM_EVENTS } from "./bodies.ts";

const BASE = process.env["BENCH_BASELINE"];
if (!BASE) throw new Error("set BENCH_BASELINE to an earlier tree (with node_modules)");
const here = (p: string) => new URL(`../../${p}`, import.meta.url).href;
const there = (p: string) => pathToFileURL(join(BASE, p)).href;
const whole = new TextEncoder().encode(STREAM_EVENTS.join(""));
const noUsage = new TextEncoder().encode(STREAM_EVENTS.filter((e) => !e.includes('"usage"')).join(""));
const clock = { now: () => performance.now() };

type Tap = object;
async function load(url: (p: string) => string) {
  const { SseAccounting } = await import(url("src/proxy/accounting.ts"));
  const { tappedWhole } = await import(url("src/proxy/relay.ts"));
  return { SseAccounting, tappedWhole } as {
    SseAccounting: new (o: object) => Tap & { result: unknown };
    tappedWhole: (b: Uint8Array, t: Tap) => Uint8Array;
  };
}
const trees = { before: await load(there), after: await load(here) };
let sink = 0;
const cases = {
  "whole stream, usage event dropped (the gateway asked for it)": (t: typeof trees.before) => () => {
    const tap = new t.SseAccounting({ kind: "chat", clock, dropUsageEvent: true });
    sink += t.tappedWhole(whole, tap).length;
    sink += (tap.result as { contentEvents: number }).contentEvents;
  },
  "whole stream, usage kept (the client asked for it)": (t: typeof trees.before) => () => {
    const tap = new t.SseAccounting({ kind: "chat", clock, dropUsageEvent: false });
    sink += t.tappedWhole(whole, tap).length;
    sink += (tap.result as { contentEvents: number }).contentEvents;
  },
  "whole stream without usage": (t: typeof trees.before) => () => {
    const tap = new t.SseAccounting({ kind: "chat", clock, dropUsageEvent: true });
    sink += t.tappedWhole(noUsage, tap).length;
    sink += (tap.result as { contentEvents: number }).contentEvents;
  },
};
const N = 20000;
for (const [name, make] of Object.entries(cases)) {
  const fns = { before: make(trees.before), after: make(trees.after) };
  const best = { before: Infinity, after: Infinity };
  let wins = 0;
  for (let b = 0; b < 15; b++) {
    const r = { before: 0, after: 0 };
    for (const side of (b % 2 ? ["after", "before"] : ["before", "after"]) as ("before" | "after")[]) {
      const t = performance.now();
      for (let i = 0; i < N; i++) fns[side]();
      r[side] = ((performance.now() - t) * 1000) / N;
      if (b > 0) best[side] = Math.min(best[side], r[side]);
    }
    if (b > 0 && r.after < r.before) wins++;
  }
  console.log(
    `${name}: ${best.before.toFixed(2)} → ${best.after.toFixed(2)} µs a stream (lower in ${wins}/14 batches)`,
  );
}
if (sink === 42) console.log("");
