/**
 * Where the Node gateway's CPU per request goes beside the bare undici proxy, split by kind
 * (issue 19, ninth pass): the JS thread's user and kernel time, V8's worker threads (the
 * optimising compiler, GC helpers), and with `--perf` the user time split further by
 * `perf record -e cpu-clock` (this VM has no hardware counters, but the software clock
 * samples kernel and user code alike): kernel, JIT-compiled JS, V8 builtins (ICs, the
 * interpreter, promises), the V8 runtime in C++, the optimising compiler, GC, node's C++ and
 * libuv, libc. A CPU profile (`node --cpu-prof`) sees only the JS thread and charges a
 * syscall to the JS frame that made it; this says how much of a gap is kernel, how much is
 * JS and how much is V8 compiling.
 *
 * Layout as run.ts: the mock pods (upstream.ts, 4 ports) and wrk on core 0, the proxy
 * under test on core 1, the other proxy SIGSTOPped meanwhile; both bundled from this tree
 * with `bun build --target=node`; each warmed (small JSON at 32 connections, then every case),
 * then rounds alternate the two targets (order swapped each round). CPU from
 * /proc/<pid>/task/<tid>/stat (utime, stime), µs per request; medians over rounds.
 *
 * With `--alt-root <checkout>` the second target is that checkout's Node gateway ("gw-alt",
 * bundled from its src/, same config and flags) instead of the bare proxy, so two trees'
 * gateways are split side by side (sixteenth pass: Node's small-JSON lean after 29839ea); with
 * `--perf --files --functions` the JIT-compiled JS is split by function (name and bundle
 * file) and the report lists the largest differences between the two targets.
 *
 *   flock /tmp/bench.lock bun bench/overhead/node-split.ts [--cases c1,c32,c128,body30k,body30kv,sse32]
 *     [--rounds 3] [--seconds 4] [--warmup 10] [--perf [--files [--functions]] | --strace]
 *     [--gw-flags "--node-flag ..."] [--alt-root <checkout>]
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { killAllOnExit, type Proc, signal, sleep, start, stopAll } from "./procs.ts";
import {
  activate,
  gatewayConfig,
  median,
  type SplitCase,
  splitCases,
  startBareNode,
  startMockPods,
  startNodeGateway,
  straceCounts,
  threadCpu as threadCpus,
  wrkOn,
} from "./split-lib.ts";

const { values } = parseArgs({
  options: {
    cases: { type: "string", default: "c1,body30k,sse32" },
    rounds: { type: "string", default: "3" },
    seconds: { type: "string", default: "4" },
    warmup: { type: "string", default: "10" },
    perf: { type: "boolean", default: false },
    strace: { type: "boolean", default: false },
    /** With --perf: the JIT-compiled JS split by the bundle's source file. */
    files: { type: "boolean", default: false },
    /** Extra node flags for the gateway only, space-separated (e.g. "--single-threaded-gc"). */
    "gw-flags": { type: "string", default: "" },
    /** Another checkout whose Node gateway ("gw-alt") takes the bare proxy's place. */
    "alt-root": { type: "string", default: "" },
    /** With --perf --files: by function (perf map name, bundle file) rather than by file. */
    functions: { type: "boolean", default: false },
  },
});
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
const PERF = values.perf;
/** `strace -c -f` over each measured round instead of perf: syscalls a request by name (CPU figures then inflated). */
const STRACE = values.strace && !PERF;
const ALT_ROOT = values["alt-root"] ? resolve(values["alt-root"]) : "";
const ROOT = resolve(import.meta.dir, "../..");
const WORK = mkdtempSync(join(tmpdir(), "node-split-"));
const log = (name: string) => join(WORK, `${name}.log`);
const say = (s: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${s}`);

type Case = SplitCase;
const { all: ALL_CASES, picked: CASES } = splitCases(WORK, values.cases);

interface Target {
  id: "gw-node" | "bare-node" | "gw-alt";
  proc: Proc;
  port: number;
  bundle: string;
}
/** The second target: the bare undici proxy, or with --alt-root the other checkout's gateway. */
const OTHER: Target["id"] = ALT_ROOT ? "gw-alt" : "bare-node";
const IDS = ["gw-node", OTHER] as const;

/** The JS thread's user and kernel time and every other thread's, in µs (split-lib's threadCpu). */
function threadCpu(pid: number): { jsUser: number; jsSys: number; workers: number } {
  const t = threadCpus(pid);
  let workers = 0;
  for (const [k, us] of t)
    if (k !== "js" && k !== "js (kernel)" && k !== "page faults" && k !== "js wakeups") workers += us;
  const jsSys = t.get("js (kernel)") ?? 0;
  return { jsUser: (t.get("js") ?? 0) - jsSys, jsSys, workers };
}

/** A perf sample's symbol and object, sorted into the kinds this tool reports. */
function kindOf(dso: string, sym: string): string {
  if (dso.includes("kernel")) return "kernel";
  if (sym.startsWith("JS:") || sym.startsWith("RegExp:") || dso.startsWith("[JIT]")) return "JS (JIT code)";
  if (sym.startsWith("Builtins_") || sym.startsWith("Bytecodes_")) return "V8 builtins";
  if (/compiler::|Compil|Turbofan|turboshaft/.test(sym)) return "V8 compiler";
  if (/Scaveng|Heap|Sweep|Evacuat|Marking|MarkCompact|heap::|Remembered|ArrayBufferSweeper/.test(sym))
    return "GC";
  if (dso.startsWith("libc") || dso.startsWith("libstdc++") || dso.startsWith("libm")) return "libc";
  if (/node::|uv_|uv__|llhttp|ada::|simdutf/.test(sym)) return "node C++ / libuv";
  if (sym.includes("v8::")) return "V8 runtime (C++)";
  return "other";
}

/** µs per kind in a perf.data file (each sample one period of the software clock). */
function perfKinds(file: string): Map<string, number> {
  const text = execFileSync(
    "perf",
    [
      "report",
      "-i",
      file,
      "--stdio",
      "--no-children",
      "-g",
      "none",
      "--sort",
      "dso,sym",
      "-F",
      "period,dso,sym",
    ],
    { encoding: "utf8", maxBuffer: 64 << 20, stdio: ["ignore", "pipe", "ignore"] },
  );
  const kinds = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^\s*(\d+)\s+(.+?)\s+\[[.k]\]\s+(.*)$/.exec(line);
    if (!m) continue;
    const ns = Number(m[1]); // cpu-clock periods are ns
    const k = kindOf(m[2]!, m[3]!.trim());
    kinds.set(k, (kinds.get(k) ?? 0) + ns / 1000);
  }
  return kinds;
}

const wrk = (t: Target, c: Case, seconds: number) => wrkOn(t, c, seconds, log("wrk"));

/**
 * JIT-compiled JS per source file of the bundle, µs in all. perf resolves a JIT address
 * through node's /tmp/perf-<pid>.map, which only grows: when V8 frees code and reuses its
 * address, `perf report` names the first function ever mapped there (a body30k run charged the
 * prefix index's addWeights and firstBelow, compiled later at the same address, to the relay's
 * `end`). Here the latest entry covering an address wins, and the function's bundle line is
 * mapped to the `// src/...` (or node_modules package) marker above it.
 */
function jitFiles(perfFile: string, pid: number, bundle: string): Map<string, number> {
  const entries = readFileSync(`/tmp/perf-${pid}.map`, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line, order) => {
      const [start, size] = line.split(" ", 2);
      return { start: Number.parseInt(start!, 16), size: Number.parseInt(size!, 16), order, name: line };
    })
    .sort((a, b) => a.start - b.start);
  const marks: { line: number; file: string }[] = [];
  readFileSync(bundle, "utf8")
    .split("\n")
    .forEach((l, i) => {
      // A checkout whose node_modules is a link (--alt-root) names them by their real path.
      const m = /^\/\/ (?:\S*?\/)?((?:src|plugins|bench)\/\S+|node_modules\/(?:@[^/]+\/)?[^/]+)/.exec(l);
      if (m) marks.push({ line: i + 1, file: m[1]! });
    });
  const fileOf = (name: string): string => {
    const line = /\.mjs:(\d+):/.exec(name);
    if (!line) {
      if (name.includes("wasm-function")) return "wasm (undici's llhttp)";
      if (name.includes("RegExp:")) return "regular expressions";
      return /JS:\S+ (node:[^:]+)/.exec(name)?.[1] ?? "other JIT code";
    }
    const at = Number(line[1]);
    let lo = 0;
    let hi = marks.length - 1;
    let found = "the bundle's prelude";
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (marks[mid]!.line <= at) {
        found = marks[mid]!.file;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
  const resolve = (ip: number): string => {
    let lo = 0;
    let hi = entries.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (entries[mid]!.start <= ip) lo = mid + 1;
      else hi = mid - 1;
    }
    let best: (typeof entries)[number] | undefined;
    // Code objects are under 256 KiB: look back that far for every entry that covers ip.
    for (let k = hi; k >= 0 && entries[k]!.start > ip - 0x40000; k--) {
      const e = entries[k]!;
      if (ip < e.start + e.size && (!best || e.order > best.order)) best = e;
    }
    if (!best) return "unresolved";
    if (!values.functions) return fileOf(best.name);
    // "<start> <size> JS:*name bundle.mjs:line:col": the name without the bundle's path and line.
    const fn = /^\S+ \S+ (?:JS:|LazyCompile:|Function:)?[*~^+]?(\S*)/.exec(best.name)?.[1] || "(anonymous)";
    return `${fileOf(best.name)} ${fn}`;
  };
  const text = execFileSync("perf", ["script", "-i", perfFile, "-F", "ip,dso,period"], {
    encoding: "utf8",
    maxBuffer: 256 << 20,
    stdio: ["ignore", "pipe", "ignore"],
  });
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    // "<period> <ip> (<dso>)": cpu-clock periods are ns.
    const m = /^\s*(\d+)\s+([0-9a-f]+)\s+\((.*)\)/.exec(line);
    if (!m) continue;
    const [, period, ip, dso] = m as unknown as [string, string, string, string];
    if (!dso.includes("perf-") && !dso.startsWith("[JIT]")) continue;
    const file = resolve(Number.parseInt(ip, 16));
    out.set(file, (out.get(file) ?? 0) + Number(period) / 1000);
  }
  return out;
}

interface Row {
  caseId: string;
  target: string;
  rps: number;
  jsUser: number;
  jsSys: number;
  workers: number;
  kinds: Map<string, number>;
  syscalls: Map<string, number>;
  files: Map<string, number>;
}

async function measure(t: Target, c: Case, round: number): Promise<Row> {
  const before = threadCpu(t.proc.pid);
  const perfFile = join(WORK, `perf-${t.id}-${c.id}-${round}.data`);
  const perf = PERF
    ? start(
        "perf",
        ["perf", "record", "-q", "-F", "1999", "-e", "cpu-clock", "-p", String(t.proc.pid), "-o", perfFile],
        { stdout: "ignore", log: log("perf") },
      )
    : STRACE
      ? start("strace", ["strace", "-c", "-f", "-p", String(t.proc.pid), "-o", `${perfFile}.strace`], {
          stdout: "ignore",
          log: log("strace"),
        })
      : undefined;
  if (STRACE) await sleep(300);
  const w = await wrk(t, c, SECONDS);
  if (perf) {
    signal(perf, "SIGINT");
    await perf.exited;
  }
  const after = threadCpu(t.proc.pid);
  const n = w.requests;
  const per = (a: number, b: number) => (a - b) / n;
  const kinds = new Map<string, number>();
  const syscalls = new Map<string, number>();
  if (perf && STRACE) for (const [k, calls] of straceCounts(`${perfFile}.strace`)) syscalls.set(k, calls / n);
  else if (perf) for (const [k, us] of perfKinds(perfFile)) kinds.set(k, us / n);
  const files = new Map<string, number>();
  if (perf && !STRACE && values.files)
    for (const [f, us] of jitFiles(perfFile, t.proc.pid, t.bundle)) files.set(f, us / n);
  return {
    caseId: c.id,
    target: t.id,
    rps: (n * 1e6) / w.durationUs,
    jsUser: per(after.jsUser, before.jsUser),
    jsSys: per(after.jsSys, before.jsSys),
    workers: per(after.workers, before.workers),
    kinds,
    syscalls,
    files,
  };
}

function report(rows: Row[]): string {
  const out: string[] = [
    `Node gateway vs ${ALT_ROOT ? `gw-alt (${ALT_ROOT})` : "bare undici proxy"}, CPU µs per request by kind (medians of ${ROUNDS} rounds of ${SECONDS} s, ${WARMUP} s warm-up; ${new Date().toISOString()})`,
    "",
  ];
  const kindsSeen = [...new Set(rows.flatMap((r) => [...r.kinds.keys()]))].sort();
  const head = ["case", "target", "req/s", "JS thread user", "JS thread kernel", "other threads", "total"];
  out.push(`| ${[...head, ...kindsSeen.map((k) => `perf: ${k}`)].join(" | ")} |`);
  out.push(`|${[...head, ...kindsSeen].map((_, i) => (i < 2 ? "---" : "---:")).join("|")}|`);
  for (const c of CASES) {
    const med: Record<string, number[]> = {};
    for (const id of IDS) {
      const rs = rows.filter((r) => r.caseId === c.id && r.target === id);
      if (!rs.length) continue;
      const cols = [
        median(rs.map((r) => r.rps)),
        median(rs.map((r) => r.jsUser)),
        median(rs.map((r) => r.jsSys)),
        median(rs.map((r) => r.workers)),
        median(rs.map((r) => r.jsUser + r.jsSys + r.workers)),
        ...kindsSeen.map((k) => median(rs.map((r) => r.kinds.get(k) ?? 0))),
      ];
      med[id] = cols;
      out.push(`| ${c.id} | ${id} | ${cols.map((x) => x.toFixed(x > 500 ? 0 : 1)).join(" | ")} |`);
    }
    const [g, b] = [med["gw-node"], med[OTHER]];
    if (g && b)
      out.push(
        `| ${c.id} | gap | | ${g
          .slice(1)
          .map((x, i) => (x - b[i + 1]!).toFixed(1))
          .join(" | ")} |`,
      );
  }
  const names = [...new Set(rows.flatMap((r) => [...r.syscalls.keys()]))].sort();
  if (names.length) {
    out.push("", "Syscalls a request (strace -c -f, medians of rounds):", "");
    for (const c of CASES)
      for (const id of IDS) {
        const rs = rows.filter((r) => r.caseId === c.id && r.target === id);
        const cells = names
          .map((k) => [k, median(rs.map((r) => r.syscalls.get(k) ?? 0))] as const)
          .filter(([, v]) => v >= 0.005)
          .map(([k, v]) => `${k} ${v.toFixed(2)}`);
        out.push(`- ${c.id} ${id}: ${cells.join(", ")}`);
      }
  }
  if (rows.some((r) => r.files.size)) {
    out.push(
      "",
      "JIT-compiled JS by source file, µs a request (medians of rounds; the largest, and src/runtime/ in all):",
      "",
    );
    for (const c of CASES)
      for (const id of IDS) {
        const rs = rows.filter((r) => r.caseId === c.id && r.target === id);
        const names = [...new Set(rs.flatMap((r) => [...r.files.keys()]))];
        const med = names
          .map((f) => [f, median(rs.map((r) => r.files.get(f) ?? 0))] as const)
          .sort((a, b) => b[1] - a[1]);
        const runtime = median(
          rs.map((r) => [...r.files].reduce((s, [f, us]) => s + (f.startsWith("src/runtime/") ? us : 0), 0)),
        );
        const top = med.slice(0, values.functions ? 40 : 12).map(([f, us]) => `${f} ${us.toFixed(2)}`);
        out.push(`- ${c.id} ${id}: src/runtime/ ${runtime.toFixed(2)}; ${top.join(", ")}`);
      }
  }
  if (values.functions && rows.some((r) => r.files.size)) {
    out.push(
      "",
      `JIT-compiled JS by function, gw-node − ${OTHER}, µs a request (medians of rounds; the 30 largest differences):`,
      "",
    );
    for (const c of CASES) {
      const rs = (id: string) => rows.filter((r) => r.caseId === c.id && r.target === id);
      const names = [...new Set(rows.filter((r) => r.caseId === c.id).flatMap((r) => [...r.files.keys()]))];
      const med = (id: string, f: string) => median(rs(id).map((r) => r.files.get(f) ?? 0));
      const diffs = names
        .map((f) => [f, med("gw-node", f), med(OTHER, f)] as const)
        .sort((a, b) => Math.abs(b[1] - b[2]) - Math.abs(a[1] - a[2]))
        .slice(0, 30);
      out.push(`| function | gw-node | ${OTHER} | diff |`, "|---|---:|---:|---:|");
      for (const [f, a, b] of diffs)
        out.push(`| ${f} | ${a.toFixed(2)} | ${b.toFixed(2)} | ${(a - b).toFixed(2)} |`);
    }
  }
  const paired = rows.map((r) => `${r.caseId}/${r.target} ${(r.jsUser + r.jsSys + r.workers).toFixed(0)}`);
  out.push("", `Per round (total µs/request): ${paired.join(", ")}`, "");
  return out.join("\n");
}

/** The other checkout's Node gateway (--alt-root), with gw-node's config and flags. */
async function startAlt(config: string, nodeFlags: string[]): Promise<Omit<Target, "id">> {
  const flags = [...nodeFlags, ...values["gw-flags"].split(" ").filter(Boolean)];
  return startNodeGateway("gw-alt", config, {
    work: WORK,
    log: log("gw-alt"),
    root: ALT_ROOT,
    nodeFlags: flags,
  });
}

async function main(): Promise<void> {
  killAllOnExit();
  say(`work dir ${WORK}`);
  const { ports } = await startMockPods(log("upstream"), ROOT);
  const config = gatewayConfig(WORK, "gateway", ports);
  const nodeFlags = PERF ? ["--perf-basic-prof"] : [];
  const gw = await startNodeGateway("gw-node", config, {
    work: WORK,
    log: log("gw-node"),
    root: ROOT,
    nodeFlags: [...nodeFlags, ...values["gw-flags"].split(" ").filter(Boolean)],
  });
  const other = ALT_ROOT
    ? await startAlt(config, nodeFlags)
    : await startBareNode(ports, { work: WORK, log: log("bare-node"), root: ROOT, nodeFlags });
  const targets: Target[] = [
    { id: "gw-node", proc: gw.proc, port: gw.port, bundle: gw.bundle },
    { id: OTHER, proc: other.proc, port: other.port, bundle: other.bundle },
  ];
  const smallCase = ALL_CASES[0]!;
  for (const t of targets) {
    say(`warm-up ${t.id}`);
    await activate(targets, t);
    await wrk(t, smallCase, WARMUP);
    for (const c of CASES) if (c.script !== smallCase.script) await wrk(t, c, Math.ceil(WARMUP / 2));
  }
  const rows: Row[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const c of CASES) {
      const order = round % 2 ? targets : [...targets].reverse();
      for (const t of order) {
        await activate(targets, t);
        const r = await measure(t, c, round);
        rows.push(r);
        say(
          `round ${round} ${c.id} ${t.id}: ${(r.jsUser + r.jsSys + r.workers).toFixed(0)} µs/req (JS user ${r.jsUser.toFixed(0)}, kernel ${r.jsSys.toFixed(0)}, other threads ${r.workers.toFixed(0)})`,
        );
      }
    }
  }
  console.log(report(rows));
  await stopAll();
}

await main().catch(async (err) => {
  console.error(err);
  await stopAll();
  process.exit(1);
});
