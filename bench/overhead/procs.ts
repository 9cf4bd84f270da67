/**
 * Child processes of the overhead benchmark: pinned to a core, each in its own process
 * group, tracked so that every one is killed at the end, also on failure or Ctrl-C.
 * Plus /proc readers (CPU ticks, RSS) and a monitor of CPU used by processes that are not ours.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";

export interface Proc {
  name: string;
  pid: number;
  child: ChildProcess;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<string>;
  alive: boolean;
  /** stderr goes here. */
  log: string;
}

const procs = new Set<Proc>();
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export const hasTaskset = (() => {
  try {
    execFileSync("taskset", ["-p", String(process.pid)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

export const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * Starts `cmd` pinned to `core` (when taskset exists). stdout: "pipe" (read it), or
 * "ignore" (/dev/null). stderr always goes to `log`.
 */
export function start(
  name: string,
  cmd: string[],
  opts: { core?: string; env?: Record<string, string>; stdout: "pipe" | "ignore"; log: string; cwd?: string },
): Proc {
  const argv = opts.core !== undefined && hasTaskset ? ["taskset", "-c", opts.core, ...cmd] : cmd;
  const err = openSync(opts.log, "a");
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ["ignore", opts.stdout, err],
    // Own process group: a terminal's Ctrl-C reaches only us, and we stop the children ourselves.
    detached: true,
  });
  closeSync(err);
  if (child.pid === undefined) throw new Error(`${name}: could not start ${argv.join(" ")}`);
  let resolveExit!: (v: string) => void;
  const exited = new Promise<string>((r) => {
    resolveExit = r;
  });
  const p: Proc = { name, pid: child.pid, child, exited, alive: true, log: opts.log };
  child.on("exit", (code, signal) => {
    p.alive = false;
    procs.delete(p);
    resolveExit(signal ?? String(code));
  });
  child.on("error", () => {
    p.alive = false;
    procs.delete(p);
    resolveExit("error");
  });
  procs.add(p);
  return p;
}

export function signal(p: Proc, sig: NodeJS.Signals): void {
  if (!p.alive) return;
  try {
    process.kill(-p.pid, sig);
  } catch {
    try {
      process.kill(p.pid, sig);
    } catch {
      // already gone
    }
  }
}

/** SIGTERM, then SIGKILL after `graceMs`. A stopped (SIGSTOP) process is continued first. */
export async function stop(p: Proc, graceMs = 5000): Promise<void> {
  if (!p.alive) return;
  signal(p, "SIGCONT");
  signal(p, "SIGTERM");
  const done = await Promise.race([p.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!done) {
    signal(p, "SIGKILL");
    await Promise.race([p.exited, sleep(2000)]);
  }
}

export async function stopAll(): Promise<void> {
  await Promise.all([...procs].map((p) => stop(p, 3000)));
}

let hooked = false;
/** Whatever happens (error, Ctrl-C, SIGTERM), every process started here is killed. */
export function killAllOnExit(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", () => {
    for (const p of procs) {
      signal(p, "SIGCONT");
      signal(p, "SIGKILL");
    }
  });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(sig, () => {
      console.error(`\n${sig}: stopping every benchmark process`);
      void stopAll().finally(() => process.exit(130));
    });
  }
}

/** The first line the process prints on stdout, parsed as JSON. */
export function firstJsonLine<T>(p: Proc, timeoutMs = 15_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(
      () => reject(new Error(`${p.name}: no output within ${timeoutMs} ms (see ${p.log})`)),
      timeoutMs,
    );
    p.child.stdout?.on("data", (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf("\n");
      if (nl !== -1) {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(buf.slice(0, nl)) as T);
        } catch (err) {
          reject(new Error(`${p.name}: bad first line ${buf.slice(0, nl)}: ${err}`));
        }
      }
    });
    void p.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${p.name} exited (${code}) before printing (see ${p.log})`));
    });
  });
}

/** Runs a process to its end; resolves with its stdout. */
export async function run(
  name: string,
  cmd: string[],
  opts: { core?: string; env?: Record<string, string>; log: string; timeoutMs: number },
): Promise<{ code: string; stdout: string }> {
  const p = start(name, cmd, { ...opts, stdout: "pipe" });
  let stdout = "";
  p.child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  const timer = setTimeout(() => signal(p, "SIGKILL"), opts.timeoutMs);
  const code = await p.exited;
  clearTimeout(timer);
  return { code, stdout };
}

/** Waits (up to 10 s, 100 ms steps) until a gateway on `port` answers its /healthz. */
export async function waitHealthy(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await sleep(100);
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** utime + stime of a process (all its threads), in clock ticks. */
export function cpuTicks(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, "utf8");
  const rest = s.slice(s.lastIndexOf(")") + 2).split(" ");
  return Number(rest[11]) + Number(rest[12]);
}

export function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : Number.NaN;
}

interface PidStat {
  ppid: number;
  ticks: number;
  comm: string;
}
function readAllStats(): Map<number, PidStat> {
  const out = new Map<number, PidStat>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, "utf8");
      const close = s.lastIndexOf(")");
      const rest = s.slice(close + 2).split(" ");
      out.set(Number(d), {
        ppid: Number(rest[1]),
        ticks: Number(rest[11]) + Number(rest[12]),
        comm: s.slice(s.indexOf("(") + 1, close),
      });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Full command line of a process, or "" */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
  } catch {
    return "";
  }
}

/** Our process tree: this process and its descendants. */
function ours(stats: Map<number, PidStat>): Set<number> {
  const mine = new Set<number>([process.pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, st] of stats) {
      if (!mine.has(pid) && mine.has(st.ppid)) {
        mine.add(pid);
        grew = true;
      }
    }
  }
  return mine;
}

/** Processes of someone else whose command line mentions bench/ (another engineer's benchmark). */
export function otherBenchmarks(): string[] {
  const stats = readAllStats();
  const mine = ours(stats);
  const found: string[] = [];
  for (const pid of stats.keys()) {
    if (mine.has(pid)) continue;
    const cmd = cmdline(pid);
    // A `flock <lock> ...` wrapper (or a shell around one) waits for the lock or wraps the
    // benchmark that holds it; the benchmark is its own process, found below if it runs.
    if (/(^|\s)flock\s/.test(cmd)) continue;
    // A script under bench/ run by someone else (not a tool merely naming the folder).
    if (/(^|[\s/])bench\/[\w./-]+\.(ts|js|mjs)\b/.test(cmd) && !/\bbench\/overhead\//.test(cmd))
      found.push(`${pid} ${cmd}`);
  }
  return found;
}

/** Busy ticks of the whole machine (all CPUs), from /proc/stat. */
function machineBusyTicks(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return total - (v[3] ?? 0) - (v[4] ?? 0); // minus idle and iowait
}

/**
 * CPU used by processes outside our tree, between samples (in % of one core): the
 * smaller of (their own ticks, a process born meanwhile counting all its ticks) and
 * (the machine's busy ticks minus ours).
 */
export class ForeignCpu {
  private last = readAllStats();
  private lastBusy = machineBusyTicks();
  private lastAt = performance.now();
  readonly samples: { pct: number; top: string }[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;

  sample(): { pct: number; top: string } {
    const now = readAllStats();
    const busy = machineBusyTicks();
    const at = performance.now();
    const mine = ours(now);
    const by = new Map<string, number>();
    let foreign = 0;
    let oursTicks = 0;
    for (const [pid, st] of now) {
      const before = this.last.get(pid);
      const d = before && before.comm === st.comm ? st.ticks - before.ticks : st.ticks;
      if (d <= 0) continue;
      if (mine.has(pid)) {
        oursTicks += d;
        continue;
      }
      foreign += d;
      by.set(st.comm, (by.get(st.comm) ?? 0) + d);
    }
    foreign = Math.max(0, Math.min(foreign, busy - this.lastBusy - oursTicks));
    const seconds = (at - this.lastAt) / 1000;
    this.last = now;
    this.lastBusy = busy;
    this.lastAt = at;
    const pct = seconds > 0 ? (100 * foreign) / CLK_TCK / seconds : 0;
    const top = [...by.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([c, t]) => `${c} ${((100 * t) / CLK_TCK / Math.max(seconds, 0.001)).toFixed(0)}%`)
      .join(", ");
    const s = { pct, top };
    this.samples.push(s);
    return s;
  }

  startEvery(ms: number): void {
    this.timer = setInterval(() => this.sample(), ms);
  }

  stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
