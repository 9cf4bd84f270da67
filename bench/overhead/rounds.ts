/**
 * Reads the raw results of one or more overhead runs (the `results.json` in each run's work
 * directory) and prints, per case, every target's CPU per request as its best round and as
 * the median of all rounds, with the gateway's ratios to the floors and to the tree before.
 *
 * On this shared VM noise only ever adds CPU, and whole rounds run 1.5-2× slow, so the median
 * of three rounds can land on a slow one: the best round of several runs is the steadier
 * reading of what a target costs (the README gives both).
 *
 *   bun bench/overhead/rounds.ts /tmp/overhead-<run1> [/tmp/overhead-<run2> ...]
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

interface Measurement {
  caseId?: string;
  target: string;
  cpuUsPerReq?: number;
}

const dirs = process.argv.slice(2);
if (dirs.length === 0) throw new Error("usage: bun bench/overhead/rounds.ts <run work dir>...");
const rounds = new Map<string, number[]>();
for (const dir of dirs) {
  const raw = JSON.parse(readFileSync(join(dir, "results.json"), "utf8")) as
    | Measurement[]
    | { measurements: Measurement[] };
  for (const m of Array.isArray(raw) ? raw : raw.measurements) {
    if (!m.caseId || m.caseId === "ablation" || m.cpuUsPerReq === undefined) continue;
    const key = `${m.caseId}|${m.target}`;
    rounds.set(key, [...(rounds.get(key) ?? []), m.cpuUsPerReq]);
  }
}
const cases = [...new Set([...rounds.keys()].map((k) => k.split("|")[0]!))];
const best = (c: string, t: string) => Math.min(...(rounds.get(`${c}|${t}`) ?? [Number.NaN]));
const median = (c: string, t: string) => {
  const v = [...(rounds.get(`${c}|${t}`) ?? [])].sort((a, b) => a - b);
  return v.length ? v[Math.floor(v.length / 2)]! : Number.NaN;
};
const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? (a / b).toFixed(2) : "-");
const us = (x: number) => (Number.isFinite(x) ? String(Math.round(x)) : "-");

const pairs: [string, string][] = [
  ["gw-bun", "bare-bun"],
  ["gw-bun", "bare-bun-wire"],
  ["gw-bun", "gw-bun-base"],
  ["gw-node", "bare-node"],
  ["gw-node", "gw-node-base"],
];
const targets = [
  "bare-bun",
  "bare-bun-wire",
  "gw-bun",
  "gw-bun-base",
  "bare-node",
  "gw-node",
  "gw-node-base",
];
for (const [title, pick] of [
  ["best round", best],
  ["median of all rounds", median],
] as const) {
  console.log(`\n${title} over ${dirs.length} run(s), CPU µs per request (per stream for SSE)\n`);
  console.log(`| case | ${targets.join(" | ")} | ${pairs.map(([a, b]) => `${a} / ${b}`).join(" | ")} |`);
  console.log(`|---|${targets.map(() => "---:").join("|")}|${pairs.map(() => "---:").join("|")}|`);
  for (const c of cases)
    console.log(
      `| ${c} | ${targets.map((t) => us(pick(c, t))).join(" | ")} | ${pairs.map(([a, b]) => ratio(pick(c, a), pick(c, b))).join(" | ")} |`,
    );
}
