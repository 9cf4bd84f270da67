/**
 * What the overhead tools that set up their own targets share (node-split.ts, bun-split.ts,
 * streams-prof.ts, wire-floor.ts, rss-phases.ts, ttfb-strace.ts, ttfb-marks.ts...):
 * per-thread CPU from /proc, wrk on the load core, one target running at a time, medians.
 */

import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUN_START_ENV } from "../../src/runtime/bun-start-env.ts";
import { bigBody, SMALL } from "./bodies.ts";
import {
  CLK_TCK,
  firstJsonLine,
  freePort,
  type Proc,
  run,
  signal,
  sleep,
  start,
  waitHealthy,
} from "./procs.ts";
import { type WrkJson, wrkScript } from "./wrk-lua.ts";

/** The core wrk and the mock pods run on; the proxy under test runs on PROXY_CORE. */
export const LOAD_CORE = "0";
export const PROXY_CORE = "1";

/**
 * Writes the gateway's config as the README has users write it (static endpoints, every
 * default: the scheduling profile, metrics and the log line on) into a folder of its own under
 * `dir` (the gateway watches its config's folder: the tools' logs and strace output written
 * next to it would wake it on every write); returns its path. `noScrape`: background scraping
 * every 600 s instead of 50 ms (what scraping costs, as run.ts's ablation). `noModels`: the
 * models refresh off too while scraping stays on (scrape-idle.ts: only the scrape differs).
 */
export function gatewayConfig(
  dir: string,
  name: string,
  ports: readonly number[],
  noScrape = false,
  noModels = false,
): string {
  mkdirSync(join(dir, "config"), { recursive: true });
  const file = join(dir, "config", `${name}.yaml`);
  writeFileSync(
    file,
    [
      "apiVersion: gateway.inference.dev/v1alpha1",
      "kind: GatewayConfig",
      "hostname: 127.0.0.1",
      "logLevel: info",
      ...(noScrape
        ? ["dataLayer: { scrapeIntervalMs: 600000, modelsRefreshMs: 600000 }"]
        : noModels
          ? ["dataLayer: { modelsRefreshMs: 600000 }"]
          : []),
      "endpoints:",
      ...ports.map((p, i) => `  - { name: mock-${i}, address: "127.0.0.1:${p}" }`),
      "",
    ].join("\n"),
  );
  return file;
}

/** A load case: connections and the wrk script that sends its requests. */
export interface SplitCase {
  id: string;
  conns: number;
  script: string;
}

/**
 * The cases, their wrk scripts written into `dir`; `ids` (comma-separated) picks them in that
 * order. The first of `all` is small JSON at 32 connections, which warms every target.
 */
export function splitCases(dir: string, ids: string): { all: SplitCase[]; picked: SplitCase[] } {
  const small = wrkScript(dir, "small", SMALL);
  /** A stream of `chunks` content chunks 5 ms apart at 32 connections; `extra` joins the body. */
  const paced = (id: string, file: string, chunks: number, extra: object = {}): SplitCase => ({
    id,
    conns: 32,
    script: wrkScript(
      dir,
      file,
      { ...SMALL, stream: true, ...extra, max_tokens: chunks },
      { "x-mock-chunks": String(chunks), "x-mock-interval-ms": "5" },
    ),
  });
  const all: SplitCase[] = [
    { id: "c32", conns: 32, script: small },
    { id: "c1", conns: 1, script: small },
    { id: "c128", conns: 128, script: small },
    { id: "body30k", conns: 32, script: wrkScript(dir, "big", bigBody(30 * 1024)) },
    // A new prompt every request (run.ts's body30kv): the prefix index fills as in a full run.
    { id: "body30kv", conns: 32, script: wrkScript(dir, "bigvary", bigBody(30 * 1024), {}, true) },
    {
      id: "sse32",
      conns: 32,
      script: wrkScript(dir, "stream", { ...SMALL, stream: true, max_tokens: 20 }, { "x-mock-chunks": "20" }),
    },
    // The paced case (run.ts's sse32p): 20 chunks 5 ms apart, each relayed on its own.
    paced("sse32p", "paced", 20),
    // The paced case with 5 and 40 chunks (twenty-ninth pass): their difference over 35 chunks is
    // a chunk's cost, what is left of a stream's the cost of its request and its end.
    paced("sse32p5", "paced5", 5),
    paced("sse32p40", "paced40", 40),
    // sse32p5 with the client asking for the usage event itself (twenty-ninth pass): the gateway
    // then forwards the body as it came and drops no event (what asking on its behalf costs).
    paced("sse32p5u", "paced5u", 5, { stream_options: { include_usage: true } }),
    // Small JSON answered 25 ms late (twenty-ninth pass): ~1,250 requests a second at 32
    // connections, the rate of sse32p5's streams, so the request path runs as rarely as a
    // paced stream's does, without a stream.
    { id: "c32d25", conns: 32, script: wrkScript(dir, "late", SMALL, { "x-mock-delay-ms": "25" }) },
  ];
  const picked = ids.split(",").map((id) => {
    const c = all.find((x) => x.id === id);
    if (!c) throw new Error(`unknown case ${id} (one of ${all.map((x) => x.id).join(", ")})`);
    return c;
  });
  return { all, picked };
}

/** A proxy under test: its process and port. */
export interface SplitTarget {
  id: string;
  proc: Proc;
  port: number;
}

/**
 * utime + stime of each thread of `pid` in µs, keyed "js" for the main thread (tid = pid)
 * and by the thread's name (/proc/<pid>/task/<tid>/comm) for the others; the main thread's
 * kernel time also under "js (kernel)"; and the minor page faults of all threads under
 * "page faults" (a count, not µs).
 */
export function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  const add = (k: string, us: number) => out.set(k, (out.get(k) ?? 0) + us);
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    let name: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      name = readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim();
    } catch {
      continue; // thread gone
    }
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const user = (Number(rest[11]) * 1e6) / CLK_TCK;
    const sys = (Number(rest[12]) * 1e6) / CLK_TCK;
    add("page faults", Number(rest[7]));
    if (Number(tid) === pid) {
      add("js", user + sys);
      add("js (kernel)", sys);
      // Times the JS thread slept and was woken (a blocking epoll_wait ends in one of these).
      try {
        const status = readFileSync(`/proc/${pid}/task/${tid}/status`, "utf8");
        add("js wakeups", Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0));
        // Times the JS thread was taken off its core while it could still run (by a pod or
        // another process sharing the core: the layout puts the pods there).
        add("js preempted", Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0));
      } catch {
        // thread gone
      }
    } else add(name.replace(/\s*\d+$/, ""), user + sys); // "Bun Pool 3" → "Bun Pool"
  }
  return out;
}

/** Runs wrk against `t` on the load core for `seconds`; its WRKJSON line. */
export async function wrkOn(t: SplitTarget, c: SplitCase, seconds: number, log: string): Promise<WrkJson> {
  const url = `http://127.0.0.1:${t.port}/v1/chat/completions`;
  const { stdout } = await run(
    "wrk",
    ["wrk", "-t1", `-c${c.conns}`, `-d${seconds}s`, "--timeout", "10s", "-s", c.script, url],
    { core: LOAD_CORE, log, timeoutMs: (seconds + 30) * 1000 },
  );
  const line = stdout.split("\n").find((l) => l.startsWith("WRKJSON "));
  if (!line) throw new Error(`wrk printed no result: ${stdout.slice(-300)}`);
  return JSON.parse(line.slice(8)) as WrkJson;
}

/** Stops every other target (SIGSTOP) and lets `t` run. */
export async function activate(targets: SplitTarget[], t: SplitTarget): Promise<void> {
  for (const o of targets) if (o !== t) signal(o.proc, "SIGSTOP");
  signal(t.proc, "SIGCONT");
  await sleep(300);
}

/** Calls per syscall in an `strace -c` summary. */
export function straceCounts(file: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?([a-z_0-9]+)$/.exec(line);
    if (m && m[2] !== "total") out.set(m[2]!, Number(m[1]));
  }
  return out;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * The 4 mock pods (upstream.ts, one Bun process) on the load core (or `core`: PROXY_CORE is the
 * issue's layout), as every split script runs them; logs to `logFile`. Returns the process and
 * its ports.
 */
export async function startMockPods(
  logFile: string,
  root: string,
  core = LOAD_CORE,
  count = 4,
): Promise<{ proc: Proc; ports: number[] }> {
  const proc = start(
    "upstream",
    [process.execPath, join(import.meta.dir, "upstream.ts"), "--ports", Array(count).fill("0").join(",")],
    {
      core,
      stdout: "pipe",
      log: logFile,
      cwd: root,
    },
  );
  const { ports } = await firstJsonLine<{ ports: number[] }>(proc);
  return { proc, ports };
}

/**
 * The Bun gateway as the README starts it (`bun run src/runtime/bun.ts --config <file>` with
 * `npm start`'s environment, BUN_START_ENV, under `env`; from `root`) on the proxy core and a
 * free port, returned once it answers /health. `bunFlags` go before `run` (e.g. `--cpu-prof`).
 */
export async function startBunGateway(
  id: string,
  config: string,
  opts: { log: string; root: string; env?: Record<string, string>; bunFlags?: readonly string[] },
): Promise<SplitTarget> {
  const port = await freePort();
  const proc = start(
    id,
    [
      process.execPath,
      ...(opts.bunFlags ?? []),
      "run",
      "src/runtime/bun.ts",
      "--config",
      config,
      "--port",
      String(port),
    ],
    {
      core: PROXY_CORE,
      env: { ...BUN_START_ENV, ...opts.env },
      stdout: "ignore",
      log: opts.log,
      cwd: opts.root,
    },
  );
  await waitHealthy(port);
  return { id, proc, port };
}

/**
 * The bare Bun proxy (bench/overhead/bare-bun.ts) on the proxy core over `ports`, from `root`,
 * with the gateway's start-up environment (BUN_START_ENV) as run.ts gives it:
 * `flags` after the script (e.g. `--wire` for b', `--relay`), `bunFlags` before it (e.g.
 * `--cpu-prof`; `--preload=<file>` with its `=`, or it takes the script as a second preload);
 * returned once it prints its port.
 */
export async function startBareBun(
  id: string,
  ports: readonly number[],
  opts: {
    log: string;
    root: string;
    flags?: readonly string[];
    env?: Record<string, string>;
    bunFlags?: readonly string[];
  },
): Promise<SplitTarget> {
  const upstreams = ports.map((p) => `127.0.0.1:${p}`).join(",");
  const proc = start(
    id,
    [
      process.execPath,
      ...(opts.bunFlags ?? []),
      "bench/overhead/bare-bun.ts",
      ...(opts.flags ?? []),
      "--port",
      "0",
      "--upstreams",
      upstreams,
    ],
    {
      core: PROXY_CORE,
      env: { ...BUN_START_ENV, ...opts.env },
      stdout: "pipe",
      log: opts.log,
      cwd: opts.root,
    },
  );
  return { id, proc, port: (await firstJsonLine<{ port: number }>(proc)).port };
}

/**
 * run.ts's first-byte client (stream-client.ts ttfb: 20 chunks 2 ms apart) on the load core
 * against `port` for `seconds` with `concurrency` clients; its JSON result line(s).
 */
export function ttfbClient(port: number, seconds: string, concurrency: string): Promise<string> {
  const p = Bun.spawn(
    [
      "taskset",
      "-c",
      LOAD_CORE,
      process.execPath,
      join(import.meta.dir, "stream-client.ts"),
      "ttfb",
      "--url",
      `http://127.0.0.1:${port}/v1/chat/completions`,
      "--concurrency",
      concurrency,
      "--seconds",
      seconds,
      "--chunks",
      "20",
      "--interval-ms",
      "2",
    ],
    { stdout: "pipe", stderr: "inherit" },
  );
  return new Response(p.stdout).text();
}

/** "K=V K2=V2" as an environment record. */
export function envOf(list: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list.split(" ").filter(Boolean)) {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new Error(`${kv} is not K=V`);
    out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

/** Bundles a Node entry of the checkout `root` into `work` (as run.ts runs the Node targets); its path. */
export function bundleForNode(work: string, entry: string, name: string, root: string): string {
  const file = join(work, `${name}.mjs`);
  execFileSync(process.execPath, ["build", "--target=node", entry, "--outfile", file], {
    cwd: root,
    stdio: "pipe",
  });
  return file;
}

/**
 * The Node gateway of `root`, bundled as run.ts runs it, on the proxy core and a free port, once
 * it answers /health; `nodeFlags` go before the bundle. Also returns the bundle's path.
 */
export async function startNodeGateway(
  id: string,
  config: string,
  opts: { work: string; log: string; root: string; nodeFlags?: readonly string[] },
): Promise<SplitTarget & { bundle: string }> {
  const bundle = bundleForNode(opts.work, "src/runtime/node.ts", id, opts.root);
  const port = await freePort();
  const proc = start(
    id,
    ["node", ...(opts.nodeFlags ?? []), bundle, "--config", config, "--port", String(port)],
    { core: PROXY_CORE, stdout: "ignore", log: opts.log, cwd: opts.root },
  );
  await waitHealthy(port);
  return { id, proc, port, bundle };
}

/** The bare undici proxy (bench/overhead/bare-node.ts, bundled) on the proxy core over `ports`. */
export async function startBareNode(
  ports: readonly number[],
  opts: { work: string; log: string; root: string; nodeFlags?: readonly string[] },
): Promise<SplitTarget & { bundle: string }> {
  const bundle = bundleForNode(opts.work, "bench/overhead/bare-node.ts", "bare-node", opts.root);
  const upstreams = ports.map((p) => `127.0.0.1:${p}`).join(",");
  const proc = start(
    "bare-node",
    ["node", ...(opts.nodeFlags ?? []), bundle, "--port", "0", "--upstreams", upstreams],
    { core: PROXY_CORE, stdout: "pipe", log: opts.log, cwd: opts.root },
  );
  return { id: "bare-node", proc, port: (await firstJsonLine<{ port: number }>(proc)).port, bundle };
}
