/**
 * Where the Bun gateway's CPU per request goes beside the bare Bun proxies, split by thread
 * and by kind of code (issue 19, eleventh pass): the Bun counterpart of node-split.ts.
 *
 * A JS-thread CPU profile (`bun --cpu-prof`) and the in-process benchmarks (hono-chain.ts,
 * body-micro.ts --chain) see the gateway's JS hot in one process; end to end the gap to the
 * bare proxy is larger (tenth pass: in process the core is ~15 µs a request at 32 at a time,
 * end to end the gateway costs ~30 µs more than the bare proxy on its wire client). This says
 * which threads and which kinds of code hold the difference: per thread from
 * /proc/<pid>/task/<tid>/stat (the JS thread's user and kernel time; Bun's HTTP-client thread,
 * which the fetch proxy's pod calls run on; JSC's collector and compiler threads, by name),
 * and with `--perf` the samples of `perf record -e cpu-clock` (software clock: this VM has
 * no hardware counters) sorted by the bun binary's own symbols (it is not stripped): kernel,
 * JIT-compiled JS (no symbol: JSC writes no perf map), JSC's interpreter, its collector,
 * allocators, JSC's runtime, Bun's native server and sockets (uSockets / uWS), libc.
 *
 * Layout as run.ts: the mock pods (upstream.ts, 4 ports) and wrk on core 0, the proxy under
 * test on core 1, the others SIGSTOPped meanwhile. Targets: gw-bun (the gateway as the README
 * starts it, default profile, metrics and log on), bare-wire (b': bare-bun.ts --wire, the
 * gateway's own pod client), bare-fetch (b: bare-bun.ts on fetch). Each is warmed on small
 * JSON and every case, then rounds alternate the targets (order rotated each round).
 * bare-wire-x and bare-fetch-x are b' and b with bare-bun.ts's `--bare-flags` added (e.g.
 * `--relay`: the gateway's relay, SSE tap and idle watch on either pod client), bare-wire-y b'
 * with `--bare-flags-y` (a second set beside the first). Cases sse32p5
 * and sse32p40 are the paced stream with 5 and 40 chunks: (µs at 40 − µs at 5) / 35 is a
 * chunk's cost, what is left a stream's own (twenty-ninth pass).
 * Also: gw-bun-noscrape, gw-bun-env (--gw-env), gw-alt (--alt-env; the gateway of another checkout,
 * --gw-root) and gw-p-<variant>, the gateway with one scheduling profile of
 * decide-profiles.ts each (random, max, default, noprefix, prefix...: the fifteenth pass's
 * split of what the default profile costs end to end, first written as decide-split.ts).
 * Each round also reads the mock pods' CPU a request, each core's busy share, the busiest
 * pod's share of the pod calls and the sockets open to the pods.
 *
 *   flock /tmp/bench.lock bun bench/overhead/bun-split.ts [--cases c32,body30k,sse32]
 *     [--targets gw-bun,bare-wire,bare-fetch] [--rounds 3] [--seconds 4] [--warmup 10]
 *     [--perf [--functions] [--callgraph] [--perf-event page-faults]]
 *     [--warm-cases body30kv --warm-targets gw-bun]
 */

import { execFileSync } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import YAML from "yaml";
import { PROFILE_YAML as PROFILES } from "./decide-profiles.ts";
import { jitFunction, writePerfMap } from "./jitdump.ts";
import { killAllOnExit, type Proc, signal, sleep, start, stopAll } from "./procs.ts";
import {
  activate,
  envOf,
  gatewayConfig,
  median,
  type SplitCase,
  type SplitTarget,
  splitCases,
  startBareBun,
  startBunGateway,
  startMockPods,
  straceCounts,
  threadCpu,
  wrkOn,
} from "./split-lib.ts";

const { values } = parseArgs({
  options: {
    cases: { type: "string", default: "c32,body30k,sse32" },
    targets: { type: "string", default: "gw-bun,bare-wire,bare-fetch" },
    rounds: { type: "string", default: "3" },
    seconds: { type: "string", default: "4" },
    warmup: { type: "string", default: "10" },
    perf: { type: "boolean", default: false },
    /**
     * With --perf: compiled JS split by function too (JSC's JITDump turned into perf's map:
     * jitdump.ts), and per case the functions whose µs a request differ most between the first
     * two targets (twenty-eighth pass).
     */
    functions: { type: "boolean", default: false },
    /** With --perf: call graphs too (`perf record -g`), kept in the work dir for `perf report -g`. */
    callgraph: { type: "boolean", default: false },
    /**
     * With --perf: the event sampled (e.g. "page-faults": where the process faults memory in;
     * the "perf:" columns then count it a request instead of µs).
     */
    "perf-event": { type: "string", default: "cpu-clock" },
    /** `strace -c -f` over each round instead: syscalls a request by name (CPU then inflated). */
    strace: { type: "boolean", default: false },
    /**
     * A second gateway, "gw-bun-env", started with these environment variables
     * (space-separated K=V, e.g. "MIMALLOC_PURGE_DELAY=-1"); add it to --targets.
     */
    "gw-env": { type: "string", default: "" },
    /**
     * YAML merged over gw-bun-env's config, its top-level keys replacing the default config's
     * (e.g. "dataLayer: { scrapeIntervalMs: 25 }", "logLevel: warn"): a config variant beside
     * the default gateway.
     */
    "gw-yaml": { type: "string", default: "" },
    /** Extra environment for gw-alt, as --gw-env for gw-bun-env (e.g. the same JIT log options on both trees). */
    "alt-env": { type: "string", default: "" },
    /**
     * A bare proxy on the wire client with these bare-bun.ts flags (space-separated, e.g.
     * "--relay" for the gateway's relay and tap), as target "bare-wire-x": an ablation; the same
     * flags on Bun's fetch as target "bare-fetch-x" (twenty-ninth pass).
     */
    "bare-flags": { type: "string", default: "" },
    /** Other bare-bun.ts flags for the pod client's bare proxy, as target "bare-wire-y" (beside bare-wire-x). */
    "bare-flags-y": { type: "string", default: "" },
    /** Another checkout (a snapshot worktree, /tmp/base15): target "gw-alt" is its gateway, default profile. */
    "gw-root": { type: "string", default: "" },
    /**
     * Cases only these targets are also warmed on (comma-separated, after small JSON), as
     * run.ts warms gw-bun on every case and its ablation variants on small JSON only.
     */
    "warm-cases": { type: "string", default: "" },
    "warm-targets": { type: "string", default: "gw-bun" },
    /**
     * Seconds of mixed load (every case of --mixed-cases at once, one wrk each) that the
     * --warm-targets get before their own warm-up, as a gateway serving mixed traffic is: the
     * JIT then compiles the request path with every case's paths in its profiles.
     */
    "mixed-warmup": { type: "string", default: "0" },
    "mixed-cases": { type: "string", default: "c32,body30k,sse32,sse32p" },
    /**
     * The mock pods' core: "0" (run.ts's layout, with wrk) or "1", the proxy's core, the layout
     * issue 19 states (run.ts's BENCH_UPSTREAM_CORE=1).
     */
    "upstream-core": { type: "string", default: "0" },
  },
});
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
const ROOT = resolve(import.meta.dir, "../..");
const WORK = mkdtempSync(join(tmpdir(), "bun-split-"));
const log = (name: string) => join(WORK, `${name}.log`);
const say = (s: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${s}`);

const { all: ALL_CASES, picked: CASES } = splitCases(WORK, values.cases);
const TARGET_IDS = values.targets.split(",");

/**
 * The kind of code a perf sample's object belongs to. The bun binary keeps only its exported
 * symbols (~700), so its natives (JSC's runtime, interpreter and collector, Bun's server and
 * WebCore classes, the allocators) stay one kind; JIT-compiled JS has no object.
 */
function kindOf(dso: string): string {
  if (dso.includes("kernel")) return "kernel";
  if (
    dso.startsWith("[JIT]") ||
    dso === "[unknown]" ||
    dso.startsWith("//anon") ||
    /perf-\d+\.map$/.test(dso)
  )
    return "JIT code";
  if (dso.startsWith("bun")) return "bun natives";
  if (dso.startsWith("libc") || dso.startsWith("libm") || dso.startsWith("ld-linux")) return "libc";
  return dso.replace(/^\[|\]$/g, "");
}

/**
 * The sampled period (cpu-clock: ns → µs) of a perf.data file summed by `key`, which names a
 * line of `perf report` sorted by `sort` (the rest of the line after the period) or skips it.
 */
function perfSums(
  file: string,
  sort: string,
  key: (rest: string) => string | undefined,
): Map<string, number> {
  const text = execFileSync(
    "perf",
    ["report", "-i", file, "--stdio", "--no-children", "-g", "none", "--sort", sort, "-F", `period,${sort}`],
    { encoding: "utf8", maxBuffer: 64 << 20, stdio: ["ignore", "pipe", "ignore"] },
  );
  const scale = values["perf-event"] === "cpu-clock" ? 1000 : 1;
  const sums = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^\s*(\d+)\s+(\S.*?)\s*$/.exec(line);
    const k = m ? key(m[2]!) : undefined;
    if (k !== undefined) sums.set(k, (sums.get(k) ?? 0) + Number(m![1]) / scale);
  }
  return sums;
}

/**
 * µs per kind in a perf.data file; with another `--perf-event`, that event's count per kind
 * (page faults, say), which the "perf:" columns then give a request.
 */
const perfKinds = (file: string) => perfSums(file, "dso", kindOf);

/** µs per compiled JS function in a perf.data file whose process has a perf map (`--functions`). */
const perfFunctions = (file: string) =>
  perfSums(file, "sym", (rest) => {
    const m = /^\[\.\]\s+(JSC-\S+)/.exec(rest);
    return m ? jitFunction(m[1]!) : undefined;
  });

/** Where a target's JSC writes its JITDump (`--functions`). */
const jitDir = (id: string) => join(WORK, `jit-${id}`);
/** The environment that makes a target's JSC write its JITDump (`--functions`). */
function jitEnv(id: string): Record<string, string> {
  if (!values.functions) return {};
  mkdirSync(jitDir(id), { recursive: true });
  return { BUN_JSC_useJITDump: "1", BUN_JSC_jitDumpDirectory: jitDir(id) };
}

interface Row {
  caseId: string;
  target: string;
  rps: number;
  /** With `--functions`: µs a request by compiled JS function. */
  fns?: Map<string, number>;
  /** µs a request by thread ("js", "js (kernel)", thread names) and by perf kind ("perf: ..."). */
  cols: Map<string, number>;
}

/** Busy and total jiffies of each core (/proc/stat). */
function coreJiffies(): { busy: number; all: number }[] {
  const out: { busy: number; all: number }[] = [];
  for (const line of readFileSync("/proc/stat", "utf8").split("\n")) {
    const m = /^cpu(\d+) (.*)$/.exec(line);
    if (!m) continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    const all = f.reduce((a, b) => a + b, 0);
    out[Number(m[1])] = { busy: all - f[3]! - f[4]!, all };
  }
  return out;
}

/** The mock pods' process (set in main): its CPU a request is read beside the target's. */
let POD_PID = 0;

/** The mock pods' ports (set in main): the pod calls' spread is read per port. */
let POD_PORTS: number[] = [];

/** Bytes received and sockets open on the connections to each pod port (`ss`: the proxy's side). */
function podBytes(): { bytes: number[]; sockets: number[] } {
  const bytes: number[] = [];
  const sockets: number[] = [];
  for (const p of POD_PORTS) {
    const text = execFileSync("ss", ["-tinH", "state", "established", "dst", `127.0.0.1:${p}`], {
      encoding: "utf8",
    });
    let b = 0;
    let n = 0;
    for (const m of text.matchAll(/bytes_received:(\d+)/g)) {
      b += Number(m[1]);
      n++;
    }
    bytes.push(b);
    sockets.push(n);
  }
  return { bytes, sockets };
}

async function measure(t: SplitTarget, c: SplitCase, round: number): Promise<Row> {
  const pods0 = podBytes();
  const cores0 = coreJiffies();
  const pod0 = threadCpu(POD_PID).get("js") ?? 0;
  const before = threadCpu(t.proc.pid);
  const perfFile = join(WORK, `perf-${t.id}-${c.id}-${round}.data`);
  const tracer = values.perf
    ? start(
        "perf",
        [
          "perf",
          "record",
          "-q",
          ...(values["perf-event"] === "cpu-clock" ? ["-F", "1999"] : []),
          "-e",
          values["perf-event"],
          ...(values.callgraph ? ["-g"] : []),
          "-p",
          String(t.proc.pid),
          "-o",
          perfFile,
        ],
        { stdout: "ignore", log: log("perf") },
      )
    : values.strace
      ? start("strace", ["strace", "-c", "-f", "-p", String(t.proc.pid), "-o", `${perfFile}.strace`], {
          stdout: "ignore",
          log: log("strace"),
        })
      : undefined;
  if (values.strace) await sleep(300);
  const w = await wrkOn(t, c, SECONDS, log("wrk"));
  if (tracer) {
    signal(tracer, "SIGINT");
    await tracer.exited;
  }
  const after = threadCpu(t.proc.pid);
  const n = w.requests;
  const cols = new Map<string, number>();
  let total = 0;
  for (const [k, us] of after) {
    const d = (us - (before.get(k) ?? 0)) / n;
    cols.set(k, d);
    if (k !== "js (kernel)" && k !== "page faults" && k !== "js wakeups" && k !== "js preempted") total += d;
  }
  cols.set("total", total);
  // The pod calls' spread: the busiest pod's share of the bytes received in the round (%), and
  // the sockets open to the pods at its end (only this target runs: the others are stopped).
  const pods1 = podBytes();
  const got = pods1.bytes.map((b, i) => Math.max(0, b - pods0.bytes[i]!));
  const sum = got.reduce((a, b) => a + b, 0);
  const cores1 = coreJiffies();
  const pod1 = threadCpu(POD_PID).get("js") ?? 0;
  cols.set("pod µs", (pod1 - pod0) / n);
  for (const [i, c] of cores1.entries())
    cols.set(`core${i} busy %`, (100 * (c.busy - cores0[i]!.busy)) / Math.max(1, c.all - cores0[i]!.all));
  cols.set("pod share %", sum > 0 ? (100 * Math.max(...got)) / sum : 0);
  cols.set(
    "pod sockets",
    pods1.sockets.reduce((a, b) => a + b, 0),
  );
  if (values.perf) for (const [k, us] of perfKinds(perfFile)) cols.set(`perf: ${k}`, us / n);
  let fns: Map<string, number> | undefined;
  if (values.perf && values.functions) {
    writePerfMap(jitDir(t.id), t.proc.pid);
    fns = new Map([...perfFunctions(perfFile)].map(([f, us]) => [f, us / n]));
  }
  if (values.strace)
    for (const [k, calls] of straceCounts(`${perfFile}.strace`)) cols.set(`calls: ${k}`, calls / n);
  return { caseId: c.id, target: t.id, rps: (n * 1e6) / w.durationUs, cols, ...(fns ? { fns } : {}) };
}

function report(rows: Row[], targets: SplitTarget[]): string {
  const names = [...new Set(rows.flatMap((r) => [...r.cols.keys()]))];
  // total first, then the JS thread, then the other threads by size, then perf's kinds.
  const order = (k: string) =>
    k === "total"
      ? 0
      : k === "js"
        ? 1
        : k === "js (kernel)"
          ? 2
          : k.startsWith("perf: ")
            ? 4
            : k.startsWith("calls: ")
              ? 5
              : 3;
  const size = (k: string) => rows.reduce((s, r) => s + (r.cols.get(k) ?? 0), 0);
  names.sort((a, b) => order(a) - order(b) || size(b) - size(a));
  const shown = names.filter((k) => size(k) / rows.length >= 0.05);
  // Counts a request (page faults, syscalls) with two decimals; µs with one; req/s whole.
  const digits = (i: number) =>
    i === 0 ? 0 : /^(page faults|js wakeups|js preempted|calls: |pod s)/.test(shown[i - 1]!) ? 2 : 1;
  const out = [
    `Bun gateway vs bare Bun proxies, CPU µs per request by thread${values.perf ? " and by kind of code (perf)" : ""} (medians of ${ROUNDS} rounds of ${SECONDS} s, ${WARMUP} s warm-up; ${new Date().toISOString()})`,
    "",
    `| case | target | req/s | ${shown.join(" | ")} |`,
    `|---|---|---:|${shown.map(() => "---:").join("|")}|`,
  ];
  for (const c of CASES) {
    const med = new Map<string, number[]>();
    for (const t of targets) {
      const rs = rows.filter((r) => r.caseId === c.id && r.target === t.id);
      if (!rs.length) continue;
      const cells = [
        median(rs.map((r) => r.rps)),
        ...shown.map((k) => median(rs.map((r) => r.cols.get(k) ?? 0))),
      ];
      med.set(t.id, cells);
      out.push(`| ${c.id} | ${t.id} | ${cells.map((x, i) => x.toFixed(digits(i))).join(" | ")} |`);
    }
    const g = med.get("gw-bun");
    for (const [id, b] of med) {
      if (id === "gw-bun" || !g) continue;
      out.push(
        `| ${c.id} | gw − ${id} | | ${g
          .slice(1)
          .map((x, i) => (x - b[i + 1]!).toFixed(digits(i + 1)))
          .join(" | ")} |`,
      );
    }
  }
  const per = rows.map((r) => `${r.caseId}/${r.target} ${(r.cols.get("total") ?? 0).toFixed(0)}`);
  out.push("", `Per round (total µs/request): ${per.join(", ")}`, "");
  if (values.functions) out.push(...functionTables(rows, targets));
  return out.join("\n");
}

/**
 * `--functions`: per case, compiled JS by function, µs a request (median over rounds) in each
 * target, the 30 whose difference between the first two targets is largest first.
 */
function functionTables(rows: Row[], targets: SplitTarget[]): string[] {
  const ids = targets.map((t) => t.id);
  const out: string[] = [];
  for (const c of CASES) {
    const byTarget = ids.map((id) => rows.filter((r) => r.caseId === c.id && r.target === id && r.fns));
    const names = new Set(byTarget.flat().flatMap((r) => [...r.fns!.keys()]));
    const med = (i: number, f: string) => median(byTarget[i]!.map((r) => r.fns!.get(f) ?? 0));
    const lines = [...names]
      .map((f) => ({ f, v: ids.map((_, i) => med(i, f)) }))
      .sort((a, b) => Math.abs(b.v[0]! - (b.v[1] ?? 0)) - Math.abs(a.v[0]! - (a.v[1] ?? 0)))
      .slice(0, 30);
    const sums = ids.map((_, i) => [...names].reduce((s, f) => s + med(i, f), 0));
    out.push(
      `Compiled JS by function, ${c.id} (perf, µs a request; all functions: ${sums.map((x) => x.toFixed(1)).join(" / ")}):`,
      "",
      `| function | ${ids.join(" | ")} |`,
      `|---|${ids.map(() => "---:").join("|")}|`,
      ...lines.map(({ f, v }) => `| ${f} | ${v.map((x) => x.toFixed(2)).join(" | ")} |`),
      "",
    );
  }
  return out;
}

async function main(): Promise<void> {
  killAllOnExit();
  say(`work dir ${WORK}`);
  const { proc: upstream, ports } = await startMockPods(log("upstream"), ROOT, values["upstream-core"]);
  POD_PORTS = ports;
  POD_PID = upstream.pid;
  const targets: SplitTarget[] = [];
  for (const id of TARGET_IDS) {
    let proc: Proc;
    let port: number;
    if (
      id === "gw-bun" ||
      id === "gw-bun-env" ||
      id === "gw-bun-noscrape" ||
      id === "gw-alt" ||
      id.startsWith("gw-p-")
    ) {
      // As run.ts's gw-bun; gw-bun-noscrape: what background scraping costs (as run.ts's ablation).
      // gw-p-<variant>: the same gateway with the scheduling profile PROFILES[variant].
      const config = gatewayConfig(WORK, id, ports, id === "gw-bun-noscrape");
      if (id.startsWith("gw-p-")) {
        const profile = PROFILES[id.slice(5)];
        if (profile === undefined) throw new Error(`unknown profile variant ${id}`);
        appendFileSync(config, profile);
      }
      if (id === "gw-bun-env" && values["gw-yaml"]) {
        const merged = { ...YAML.parse(readFileSync(config, "utf8")), ...YAML.parse(values["gw-yaml"]) };
        writeFileSync(config, YAML.stringify(merged));
      }
      const extra =
        id === "gw-bun-env" ? envOf(values["gw-env"]) : id === "gw-alt" ? envOf(values["alt-env"]) : {};
      ({ proc, port } = await startBunGateway(id, config, {
        env: { ...extra, ...jitEnv(id) },
        log: log(id),
        root: id === "gw-alt" ? resolve(values["gw-root"]) : ROOT,
      }));
    } else if (["bare-wire", "bare-fetch", "bare-wire-x", "bare-fetch-x", "bare-wire-y"].includes(id)) {
      const flags = id.endsWith("-x")
        ? values["bare-flags"]
        : id.endsWith("-y")
          ? values["bare-flags-y"]
          : "";
      const extra = flags.split(" ").filter(Boolean);
      const wire = id.startsWith("bare-fetch") ? extra : ["--wire", ...extra];
      ({ proc, port } = await startBareBun(id, ports, {
        flags: wire,
        env: jitEnv(id),
        log: log(id),
        root: ROOT,
      }));
    } else
      throw new Error(
        `unknown target ${id} (gw-bun, gw-bun-env, gw-bun-noscrape, bare-wire, bare-wire-x, bare-wire-y, bare-fetch, bare-fetch-x)`,
      );
    targets.push({ id, proc, port });
  }
  const small = ALL_CASES[0]!;
  const mixedSeconds = Number(values["mixed-warmup"]);
  for (const t of targets) {
    say(`warm-up ${t.id}`);
    await activate(targets, t);
    if (mixedSeconds > 0 && values["warm-targets"].split(",").includes(t.id)) {
      say(`mixed warm-up ${t.id}: ${values["mixed-cases"]} at once for ${mixedSeconds} s`);
      const mixed = values["mixed-cases"].split(",").map((id) => ALL_CASES.find((x) => x.id === id)!);
      await Promise.all(mixed.map((c) => wrkOn(t, c, mixedSeconds, log("wrk"))));
    }
    await wrkOn(t, small, WARMUP, log("wrk"));
    for (const c of CASES)
      if (c.script !== small.script) await wrkOn(t, c, Math.ceil(WARMUP / 2), log("wrk"));
    if (values["warm-targets"].split(",").includes(t.id))
      for (const id of values["warm-cases"].split(",").filter(Boolean)) {
        const c = ALL_CASES.find((x) => x.id === id);
        if (c === undefined) throw new Error(`--warm-cases: unknown case ${id}`);
        say(`warm-up ${t.id} on ${id}`);
        await wrkOn(t, c, WARMUP, log("wrk"));
      }
  }
  const rows: Row[] = [];
  for (let round = 1; round <= ROUNDS; round++)
    for (const c of CASES) {
      const k = round % targets.length;
      for (const t of [...targets.slice(k), ...targets.slice(0, k)]) {
        await activate(targets, t);
        const r = await measure(t, c, round);
        rows.push(r);
        const col = (k: string, d = 0) => (r.cols.get(k) ?? 0).toFixed(d);
        say(
          `round ${round} ${c.id} ${t.id}: ${col("total")} µs/req (js ${col("js")}, JIT ${col("JITWorker")}, collector ${col("Heap Helper")}, wakeups ${col("js wakeups", 2)}, pod ${col("pod µs")} µs, cores ${col("core0 busy %")}/${col("core1 busy %")} %, busiest pod ${col("pod share %")} %, pod sockets ${col("pod sockets")})`,
        );
      }
    }
  console.log(report(rows, targets));
  await stopAll();
}

await main().catch(async (err) => {
  console.error(err);
  await stopAll();
  process.exit(1);
});
