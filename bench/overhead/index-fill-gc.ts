/**
 * What a full prefix index costs Bun's gateway on the repeated 30 KiB prompt (issue 19,
 * twenty-seventh pass): two gateways of the same code side by side, one fresh (its index
 * holds the warm-up's prompts), one whose index was filled with new 30 KiB prompts (run.ts's
 * body30kv) first, as a gateway that has served a while; `--targets` adds the bare Bun proxy
 * (bare-bun.ts on fetch). All run with JSC's GC log (`BUN_JSC_logGC=1`), so each slice also
 * counts the collections (eden / full), their pauses and whole cycles, the heap they left, and
 * (with `--env BUN_GC_TIMER_DISABLE=1`, when the allocation limit starts every collection) the
 * bytes the JS heap took a request; `--prof` adds a JS-thread CPU profile of each (read with
 * profile.ts; it makes the JS heap several times larger, so read GC figures from runs without it).
 * The slices alternate between the targets (order reversed every other round), and the medians of
 * the per-slice figures are printed side by side: CPU a request (the JS thread, its kernel share),
 * page faults a request, collections a second and requests between two, GC pause a request, GC
 * cycles' ms a second, heap after GC.
 *
 * Layout as issue 19 states it (issue-pairs.ts's default): wrk on core 0, the mock pods and the
 * proxy under test on core 1, the other targets SIGSTOPped. Gateways as `npm start` runs them.
 *
 *   flock /tmp/bench.lock bun bench/overhead/index-fill-gc.ts [--rounds 6] [--seconds 3]
 *     [--fill 10] [--case body30k] [--prof] [--env "K=V ..."] [--targets fresh,full,bare]
 */
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { killAllOnExit, stopAll } from "./procs.ts";
import {
  activate,
  envOf,
  gatewayConfig,
  median,
  PROXY_CORE,
  type SplitCase,
  type SplitTarget,
  splitCases,
  startBareBun,
  startBunGateway,
  startMockPods,
  threadCpu,
  wrkOn,
} from "./split-lib.ts";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "6" },
    seconds: { type: "string", default: "3" },
    fill: { type: "string", default: "10" },
    case: { type: "string", default: "body30k" },
    prof: { type: "boolean", default: false },
    /** fresh and full: the gateway (full: its index filled first); bare: bare-bun.ts on fetch. */
    targets: { type: "string", default: "fresh,full" },
    /** Extra environment for both gateways (space-separated K=V). */
    env: { type: "string", default: "" },
  },
});
const ROOT = resolve(import.meta.dir, "../..");
const WORK = mkdtempSync(join(tmpdir(), "index-fill-gc-"));
const SECONDS = Number(values.seconds);
killAllOnExit();

const { picked } = splitCases(WORK, `c32,${values.case},body30kv`);
const [small, measured, vary] = picked as [SplitCase, SplitCase, SplitCase];
const pods = await startMockPods(join(WORK, "pods.log"), ROOT, PROXY_CORE);
const config = gatewayConfig(WORK, "gw", pods.ports);

/** A target and its stderr, where JSC writes the GC log. */
interface Logged {
  target: SplitTarget;
  gcLog: string;
  /** Bytes of the GC log already read. */
  seen: number;
}
const logged: Logged[] = [];
for (const id of values.targets.split(",")) {
  const gcLog = join(WORK, `${id}.log`);
  const opts = {
    log: gcLog,
    root: ROOT,
    env: { BUN_JSC_logGC: "1", ...envOf(values.env) },
    bunFlags: values.prof ? ["--cpu-prof", `--cpu-prof-dir=${join(WORK, `prof-${id}`)}`] : [],
  };
  if (id === "bare") logged.push({ target: await startBareBun(id, pods.ports, opts), gcLog, seen: 0 });
  else if (id === "fresh" || id === "full")
    logged.push({ target: await startBunGateway(id, config, opts), gcLog, seen: 0 });
  else throw new Error(`unknown target ${id} (fresh, full, bare)`);
}
const targets = logged.map((g) => g.target);
const wrkLog = join(WORK, "wrk.log");
for (const g of logged) {
  await activate(targets, g.target);
  await wrkOn(g.target, small, 5, wrkLog);
  await wrkOn(g.target, measured, 5, wrkLog);
}
const full = logged.find((g) => g.target.id === "full");
if (full) {
  await activate(targets, full.target);
  const filled = await wrkOn(full.target, vary, Number(values.fill), wrkLog);
  console.error(`filled: ${filled.requests} new prompts`);
}
for (const g of logged) g.seen = statSync(g.gcLog).size;

interface GcSlice {
  eden: number;
  fullGc: number;
  /** Collections started because the cycle's allocation passed the heap's limit, and those bytes. */
  byAllocation: number;
  allocatedBytes: number;
  /** The collections' pauses (the JS thread stopped), and their whole cycles (concurrent marking included). */
  pauseMs: number;
  cycleMs: number;
  heapKb: number[];
}
/** The GC log's lines since the last read: collections by kind, their cycle time, heap after. */
function readGc(g: Logged): GcSlice {
  const text = readFileSync(g.gcLog, "utf8").slice(g.seen);
  g.seen += Buffer.byteLength(text);
  const out: GcSlice = {
    eden: 0,
    fullGc: 0,
    byAllocation: 0,
    allocatedBytes: 0,
    pauseMs: 0,
    cycleMs: 0,
    heapKb: [],
  };
  for (const m of text.matchAll(/Requesting GC because bytes allocated this cycle: (\d+)/g)) {
    out.byAllocation++;
    out.allocatedBytes += Number(m[1]);
  }
  for (const m of text.matchAll(/=> (EdenCollection|FullCollection)/g))
    if (m[1] === "EdenCollection") out.eden++;
    else out.fullGc++;
  for (const m of text.matchAll(/=> (\d+)kb, p=([\d.]+)ms \(max [\d.]+\), cycle ([\d.]+)ms END/g)) {
    out.heapKb.push(Number(m[1]));
    out.pauseMs += Number(m[2]);
    out.cycleMs += Number(m[3]);
  }
  return out;
}

const rows = new Map<string, Map<string, number[]>>();
const put = (id: string, k: string, x: number) => {
  const row = rows.get(id) ?? new Map<string, number[]>();
  rows.set(id, row);
  row.set(k, [...(row.get(k) ?? []), x]);
};
for (let r = 0; r < Number(values.rounds); r++) {
  for (const g of r % 2 === 0 ? logged : [...logged].reverse()) {
    await activate(targets, g.target);
    readGc(g);
    const t0 = threadCpu(g.target.proc.pid);
    const w = await wrkOn(g.target, measured, SECONDS, wrkLog);
    const t1 = threadCpu(g.target.proc.pid);
    const gc = readGc(g);
    const n = Math.max(1, w.requests);
    const secs = w.durationUs / 1e6;
    let cpu = 0;
    for (const [k, v] of t1) {
      const d = (v - (t0.get(k) ?? 0)) / n;
      if (k !== "page faults" && k !== "js wakeups" && k !== "js preempted" && k !== "js (kernel)") cpu += d;
      if (
        k === "js" ||
        k === "js (kernel)" ||
        k === "page faults" ||
        k.startsWith("Heap") ||
        k.startsWith("JSC")
      )
        put(g.target.id, k, d);
    }
    put(g.target.id, "cpu µs/req", cpu);
    put(g.target.id, "req/s", n / secs);
    put(g.target.id, "eden/s", gc.eden / secs);
    put(g.target.id, "full/s", gc.fullGc / secs);
    put(g.target.id, "req/eden", gc.eden ? n / gc.eden : n);
    put(g.target.id, "GC pause µs/req", (gc.pauseMs * 1000) / n);
    put(g.target.id, "GC cycle ms/s", gc.cycleMs / secs);
    // All the cycle's allocation only when every collection was started by it (BUN_GC_TIMER_DISABLE=1).
    put(g.target.id, "by allocation %", (100 * gc.byAllocation) / Math.max(1, gc.eden + gc.fullGc));
    put(g.target.id, "KiB allocated/req (those)", gc.allocatedBytes / 1024 / n);
    put(g.target.id, "heap after GC MiB", median(gc.heapKb.length ? gc.heapKb : [0]) / 1024);
    console.error(
      `round ${r} ${g.target.id}: ${cpu.toFixed(1)} µs/req, ${gc.eden} eden + ${gc.fullGc} full, GC pauses ${gc.pauseMs.toFixed(0)} ms, ${n} req`,
    );
  }
}
const ids = logged.map((g) => g.target.id);
const keys = [...(rows.get(ids[0]!)?.keys() ?? [])];
const first = ids[0]!;
console.log(
  `| per slice, median of ${values.rounds} | ${ids.join(" | ")} | ${ids
    .slice(1)
    .map((id) => `${id} ÷ ${first}`)
    .join(" | ")} |`,
);
console.log(
  `|---|${ids.map(() => "---:").join("|")}|${ids
    .slice(1)
    .map(() => "---:")
    .join("|")}|`,
);
for (const k of keys) {
  const m = ids.map((id) => median(rows.get(id)?.get(k) ?? [0]));
  const ratios = m.slice(1).map((b) => (m[0] ? (b / m[0]).toFixed(2) : "-"));
  console.log(`| ${k} | ${m.map((x) => x.toFixed(2)).join(" | ")} | ${ratios.join(" | ")} |`);
}
await stopAll();
console.log(`work dir ${WORK}`);
