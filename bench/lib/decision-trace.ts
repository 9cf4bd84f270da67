/**
 * What a decision's tail is made of (bench/decision-time.ts with BENCH_TRACE=1): per timed
 * decision, its time split by the plugin observer (prefix scorer = hash + match, PreRequest
 * = index record, the rest = other scorers, picker, framework), the blocks it added to the
 * index, and whether a garbage collection ran in it (Bun: the JSC heap shrank across the
 * decision; Node: a `gc` performance entry overlapped it), and on Linux how long the thread
 * waited for a core and how many pages it faulted in during the decision
 * (bench/lib/thread-clock.ts). Printed to stderr: the slowest 1 % against all decisions,
 * and the p99 of the decisions no collection ran in. BENCH_TRACE_CSV=file appends one
 * line per decision (phase, k, µs, new blocks, µs waited, faults, GC, the four parts).
 */
import { writeFileSync, writeSync } from "node:fs";
import type { PrefixIndexStats } from "../../src/scheduling/framework/index.ts";

/**
 * BENCH_TRACE=marks: also writes "@D k µs" to stderr after each timed decision and "@A k"
 * after its deferred work, synchronously, so the collector's own log on the same stream
 * (Bun: BUN_JSC_logGC=1; Node: --trace-gc) shows which decision each collection ran in.
 */
const MARKS = process.env["BENCH_TRACE"] === "marks";

const jsc = typeof Bun !== "undefined" ? ((await import("bun:jsc")) as { heapSize(): number }) : undefined;

export interface DecisionTrace {
  observe(point: string, type: string, seconds: number): void;
  before(stats: PrefixIndexStats): void;
  /**
   * After the decision: its time, the index's stats once its record is applied, and what
   * the thread waited for a core (µs) and faulted during the decision (NaN: not measured).
   */
  after(k: number, ms: number, stats: PrefixIndexStats, waitedUs: number, faults: number): void;
  /** After the decision's deferred work (the microtask). */
  settled(k: number): void;
  report(label: string, nodeGc: Uint8Array | undefined): void;
}

const PARTS = ["prefix score", "PreRequest", "other plugins", "framework"] as const;

export function decisionTrace(count: number): DecisionTrace {
  const total = new Float64Array(count);
  const parts = PARTS.map(() => new Float64Array(count));
  const fresh = new Float64Array(count);
  const gc = new Uint8Array(count);
  const waited = new Float64Array(count);
  const faults = new Float64Array(count);
  let machine = false;
  let prefix = 0;
  let pre = 0;
  let other = 0;
  let heap0 = 0;
  let s0: PrefixIndexStats | undefined;
  return {
    observe(point, type, seconds) {
      const us = seconds * 1e6;
      if (point === "PreRequest") pre += us;
      else if (type === "prefix-cache-scorer") prefix += us;
      else other += us;
    },
    before(stats) {
      s0 = stats;
      prefix = pre = other = 0;
      heap0 = jsc?.heapSize() ?? 0;
    },
    after(k, ms, stats, waitedUs, faulted) {
      waited[k] = waitedUs;
      faults[k] = faulted;
      machine = !Number.isNaN(waitedUs);
      if (MARKS) writeSync(2, `@D ${k} ${(ms * 1000).toFixed(0)}\n`);
      if (jsc !== undefined && jsc.heapSize() < heap0) gc[k] = 1;
      total[k] = ms * 1000;
      parts[0]![k] = prefix;
      parts[1]![k] = pre;
      parts[2]![k] = other;
      parts[3]![k] = Math.max(0, ms * 1000 - prefix - pre - other);
      fresh[k] = stats.totalBlocks - stats.matchedBlocks - (s0!.totalBlocks - s0!.matchedBlocks);
    },
    settled(k) {
      if (MARKS) writeSync(2, `@A ${k}\n`);
    },
    report(label, nodeGc) {
      const flags = nodeGc ?? gc;
      const order = Array.from(total.keys()).sort((a, b) => total[a]! - total[b]!);
      const slow = order.slice(Math.floor(count * 0.99));
      const mean = (xs: Float64Array | Uint8Array, ks: readonly number[]) =>
        ks.reduce((a, k) => a + xs[k]!, 0) / Math.max(1, ks.length);
      const line = (name: string, ks: readonly number[]) =>
        `  ${name.padEnd(8)} n=${String(ks.length).padStart(4)} total ${mean(total, ks).toFixed(0)} µs = ` +
        PARTS.map((p, i) => `${p} ${mean(parts[i]!, ks).toFixed(0)}`).join(" + ") +
        `; new blocks ${mean(fresh, ks).toFixed(0)}; GC in ${(mean(flags, ks) * 100).toFixed(0)} %` +
        (machine
          ? `; waited for a core ${mean(waited, ks).toFixed(0)} µs; page faults ${mean(faults, ks).toFixed(1)}`
          : "");
      const dump = process.env["BENCH_TRACE_CSV"];
      if (dump) {
        const rows = Array.from(total, (t, k) =>
          [
            label,
            k,
            t.toFixed(1),
            fresh[k],
            waited[k]!.toFixed(0),
            faults[k],
            flags[k],
            ...parts.map((p) => p[k]!.toFixed(1)),
          ].join(","),
        );
        writeFileSync(dump, `${rows.join("\n")}\n`, { flag: "a" });
      }
      const clean = order.filter((k) => flags[k] === 0);
      const pct = (ks: number[], q: number) =>
        total[ks[Math.min(ks.length - 1, Math.floor(ks.length * q))]!]!;
      const newOnes = order.filter((k) => fresh[k]! > 0);
      const repeats = order.filter((k) => fresh[k] === 0);
      console.error(
        [
          `trace ${label} (${typeof Bun !== "undefined" ? "Bun" : "Node"}, observer on):`,
          `  p50 ${pct(order, 0.5).toFixed(0)} p90 ${pct(order, 0.9).toFixed(0)} p99 ${pct(order, 0.99).toFixed(0)} µs; ` +
            `decisions a GC ran in: ${clean.length === count ? 0 : count - clean.length}; p99 without them ${clean.length ? pct(clean, 0.99).toFixed(0) : "-"} µs`,
          line("all", order),
          line("slowest", slow),
          line("new", newOnes),
          line("repeat", repeats),
          `  slowest: ${slow.map((k) => `${total[k]!.toFixed(0)}${flags[k] ? "g" : ""}/${fresh[k]}${machine ? `/${waited[k]!.toFixed(0)}` : ""}`).join(" ")} (µs, g = GC, /new blocks${machine ? "/µs waited for a core" : ""})`,
        ].join("\n"),
      );
    },
  };
}
