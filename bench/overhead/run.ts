/**
 * Gateway overhead benchmark (issue #10): `npm run bench:overhead`.
 *
 * Targets, side by side, interleaved over several rounds (medians reported):
 *   direct          (a) the mock upstream, no proxy
 *   bare-bun        (b) Bun.serve + fetch, JSON body parsed, then forwarded: the Bun floor
 *   bare-bun-wire   (b') the same on the gateway's wire client (bare-bun.ts --wire)
 *   gw-bun          (c) the gateway under Bun (`bun run src/runtime/bun.ts --config ...`)
 *   gw-node         (d) the gateway under Node, bundled once with `bun build --target=node`
 *   bare-node       (e) node:http + undici.request (npm undici): the Node floor
 *   bare-node-fetch (e') node:http + Node's global fetch (the client the gateway uses)
 *   gw-node-tsx     (opt-in) the gateway under `node --import tsx`, to compare with the bundle
 *
 * Layout (2 cores): load generator (wrk, stream clients) and the mock upstream on core 0
 * (BENCH_UPSTREAM_CORE=1: the upstream on the proxy's core, the issue's layout),
 * the proxy under test on core 1. Gateways not under test are SIGSTOPped so that their
 * background scraping does not run on the measured core.
 *
 * Knobs (environment): BENCH_QUICK=1 (one short round, small memory tests, writes to a
 * temp file), BENCH_ROUNDS, BENCH_SECONDS (per wrk run), BENCH_TTFB_SECONDS, BENCH_TTFB_WARMUP_S,
 * BENCH_TARGETS=direct,gw-bun,..., BENCH_CASES=c1,c32,..., BENCH_MEMORY=0, BENCH_PROFILE=0,
 * BENCH_MEM_REQUESTS, BENCH_MEM_REQUESTS_NODE, BENCH_STREAMS, BENCH_STREAM_SECONDS,
 * BENCH_PROFILE_SECONDS, BENCH_WARMUP_S (load per target before measuring, default 10; JIT),
 * BENCH_WARMUP_REQUESTS and BENCH_WARMUP_MAX_S (each case warmed until steady: warmUp), BENCH_ENDPOINTS (mock ports = gateway endpoints, default 4),
 * BENCH_WAIT_MAX_S (wait for other benchmarks or a busy machine, default 1200),
 * BENCH_QUIET_PCT (CPU % of a core used by others that counts as busy, default 50),
 * BENCH_ABLATION=0, BENCH_MICRO=0, BENCH_OUT (results file), BENCH_BASELINE (an earlier tree run
 * beside this one as gw-bun-base / gw-node-base; with BENCH_TARGETS, beside each gw-* listed)
 * and BENCH_BASELINE_NAME (its label).
 */

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, release, tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { BUN_START_ENV } from "../../src/runtime/bun-start-env.ts";
import { bigBody, SMALL } from "./bodies.ts";
import {
  CLK_TCK,
  cpuTicks,
  ForeignCpu,
  firstJsonLine,
  freePort,
  hasTaskset,
  killAllOnExit,
  otherBenchmarks,
  type Proc,
  rssKb,
  run,
  signal,
  sleep,
  start,
  stop,
  stopAll,
} from "./procs.ts";
import { analyzeProfile, type ProfileSummary, profileMarkdown } from "./profile.ts";
import { type WrkJson, wrkScript } from "./wrk-lua.ts";

const ROOT = resolve(import.meta.dir, "../..");
const HERE = import.meta.dir;
const env = process.env;
const QUICK = env["BENCH_QUICK"] === "1";
const num = (name: string, def: number) => {
  const v = env[name];
  return v !== undefined && v !== "" ? Number(v) : def;
};
const list = (name: string) => (env[name] ?? "").split(",").filter(Boolean);

const CFG = {
  rounds: num("BENCH_ROUNDS", QUICK ? 1 : 3),
  seconds: num("BENCH_SECONDS", QUICK ? 2 : 3),
  /** The first-byte case's seconds a round; 0 skips the case (its warm-up too). */
  ttfbSeconds: num("BENCH_TTFB_SECONDS", QUICK ? 1.5 : 2),
  /** The first-byte case's own warm-up, at least (warmTtfb; 0: none, as before the twentieth pass). */
  ttfbWarmupSeconds: num("BENCH_TTFB_WARMUP_S", QUICK ? 4 : 20),
  memRequests: num("BENCH_MEM_REQUESTS", QUICK ? 20_000 : 200_000),
  memRequestsNode: num("BENCH_MEM_REQUESTS_NODE", QUICK ? 8_000 : 200_000),
  streams: num("BENCH_STREAMS", QUICK ? 300 : 2000),
  streamSeconds: num("BENCH_STREAM_SECONDS", QUICK ? 3 : 10),
  profileSeconds: num("BENCH_PROFILE_SECONDS", QUICK ? 2 : 5),
  // Bun's optimizing JIT works through the gateway's code for its first ~15k requests (50-90 µs
  // a request of compiler CPU in the first 3 s at 32 connections, ~0-5 after): measure warm.
  warmupSeconds: num("BENCH_WARMUP_S", QUICK ? 5 : 10),
  // ...and JSC and V8 compile by call count, so each case's warm-up also runs until it has served
  // this many requests and its CPU per request has stopped falling (a slice of BENCH_SECONDS no
  // more than 3 % under the best slice before it), at most BENCH_WARMUP_MAX_S seconds a case.
  warmupRequests: num("BENCH_WARMUP_REQUESTS", QUICK ? 2_000 : 20_000),
  warmupMaxSeconds: num("BENCH_WARMUP_MAX_S", QUICK ? 10 : 40),
  endpoints: num("BENCH_ENDPOINTS", 4),
  waitMaxS: num("BENCH_WAIT_MAX_S", 1200),
  quietPct: num("BENCH_QUIET_PCT", 50),
  targets: list("BENCH_TARGETS"),
  cases: list("BENCH_CASES"),
  memory: env["BENCH_MEMORY"] !== "0",
  ablation: env["BENCH_ABLATION"] !== "0",
  micro: env["BENCH_MICRO"] !== "0",
  profile: env["BENCH_PROFILE"] !== "0",
  out:
    env["BENCH_OUT"] ??
    (QUICK ? join(tmpdir(), "overhead-quick.md") : join(ROOT, "bench/results/overhead.md")),
  /**
   * Cores. The mock upstream shares the load generator's core by default (as every run since
   * the first); BENCH_UPSTREAM_CORE=1 puts it on the proxy's core instead, the layout issue 19
   * states ("load generator on one core, mock upstream and proxy pinned to the other").
   */
  core: { load: "0", upstream: env["BENCH_UPSTREAM_CORE"] ?? "0", proxy: "1" },
};

const BUN = process.execPath;
const NODE = "node";
/** What `npm start` sets for Bun (src/runtime/bun-start-env.ts), given to every Bun target alike. */
const MAXREQ = BUN_START_ENV;
const WORK = join(tmpdir(), `overhead-${new Date().toISOString().replace(/[:.]/g, "-")}`);
mkdirSync(WORK, { recursive: true });
const logFile = (name: string) => join(WORK, `${name}.log`);
const say = (msg: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);

// ---------------------------------------------------------------- inputs

const BODIES = {
  small: SMALL,
  big: bigBody(30 * 1024),
  stream: { ...SMALL, stream: true, max_tokens: 20 },
};

/** A wrk script in this run's work directory (wrk-lua.ts). */
const lua = (name: string, body: object, headers: Record<string, string> = {}, vary = false) =>
  wrkScript(WORK, name, body, headers, vary);

interface Case {
  id: string;
  label: string;
  conns: number;
  script: string;
  /** Requests of warm-up, where not BENCH_WARMUP_REQUESTS (a paced stream runs its relay 20 times). */
  warmRequests?: number;
}

// ---------------------------------------------------------------- load generator

type WrkResult = WrkJson;

async function wrk(url: string, script: string, conns: number, seconds: number): Promise<WrkResult> {
  const { code, stdout } = await run(
    "wrk",
    ["wrk", "-t1", `-c${conns}`, `-d${seconds}s`, "--timeout", "10s", "-s", script, url],
    { core: CFG.core.load, log: logFile("wrk"), timeoutMs: (seconds + 30) * 1000 },
  );
  const line = stdout.split("\n").find((l) => l.startsWith("WRKJSON "));
  if (!line) throw new Error(`wrk failed (${code}): ${stdout.slice(-500)}`);
  return JSON.parse(line.slice(8)) as WrkResult;
}

// ---------------------------------------------------------------- targets

interface Target {
  id: string;
  label: string;
  runtime: "bun" | "node" | "";
  kind: "direct" | "bare" | "gateway";
  /** The bare proxy of the same runtime (ratios are against it). */
  floor?: string;
  port: number;
  proc: Proc;
  /** An ablation variant of the Bun gateway (what one default costs); measured in its own phase. */
  ablation?: string;
}

let upstream: Proc;
let upstreamPorts: number[] = [];
const targets: Target[] = [];
const gateways = () => targets.filter((t) => t.kind === "gateway");

async function waitReady(url: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < until) {
    try {
      const ready = await fetch(`${url}/readyz`);
      const models = await fetch(`${url}/v1/models`);
      const text = await models.text();
      if (ready.ok && text.includes('"id":"m"')) return;
      last = `readyz ${ready.status}, models ${text.slice(0, 100)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(200);
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms: ${last}`);
}

/** A random picker instead of the default profile (no scorers, no prefix hashing, one plugin timed). */
const RANDOM_PROFILE = [
  "---",
  "apiVersion: inference.networking.x-k8s.io/v1alpha1",
  "kind: EndpointPickerConfig",
  "plugins:",
  "  - { type: random-picker, parameters: { maxNumOfEndpoints: 3 } }",
  "schedulingProfiles:",
  "  - name: default",
  "    plugins:",
  "      - pluginRef: random-picker",
];

/**
 * The benchmark's gateway config: static endpoints (models learned from /v1/models),
 * logLevel info, default scrape interval and, unless told otherwise, the DEFAULT
 * scheduling profile. The options make the ablation variants.
 */
function gatewayConfig(
  name = "gateway",
  opts: { silent?: boolean; noScrape?: boolean; randomPicker?: boolean } = {},
): string {
  // Its own folder: the gateway watches its config file's folder, and the logs written in WORK
  // (its own request log among them) would wake that watcher every batch, as a user's would not
  // (a ConfigMap mount, logs to stdout).
  const file = join(WORK, "config", `${name}.yaml`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    [
      "# Overhead benchmark: default scheduling profile (no EndpointPickerConfig), metrics and logging on.",
      "apiVersion: gateway.inference.dev/v1alpha1",
      "kind: GatewayConfig",
      "hostname: 127.0.0.1",
      `logLevel: ${opts.silent ? "silent" : "info"}`,
      ...(opts.noScrape ? ["dataLayer: { scrapeIntervalMs: 600000, modelsRefreshMs: 600000 }"] : []),
      "endpoints:",
      ...upstreamPorts.map((p, i) => `  - { name: mock-${i}, address: "127.0.0.1:${p}" }`),
      ...(opts.randomPicker ? RANDOM_PROFILE : []),
      "",
    ].join("\n"),
  );
  return file;
}

function bundle(entry: string, name: string, cwd = ROOT): string {
  const out = join(WORK, `${name}.mjs`);
  execFileSync(BUN, ["build", "--target=node", entry, "--outfile", out], { cwd, stdio: "pipe" });
  return out;
}

interface Spec {
  id: string;
  label: string;
  runtime: Target["runtime"];
  kind: Target["kind"];
  floor?: string;
  cmd: (port: number, extra: string[]) => string[];
  env?: Record<string, string>;
  /** Prints {"port":N} (bare proxies) or is polled on /readyz (gateways). */
  announces: boolean;
  /** Working directory (the BENCH_BASELINE tree for the "before" gateways). */
  cwd?: string;
  ablation?: string;
}

let specs: Spec[] = [];
function defineSpecs(config: string, bundles: { gw: string; bare: string; base?: string }): Spec[] {
  const ups = upstreamPorts.map((p) => `127.0.0.1:${p}`).join(",");
  const bunGateway = (id: string, label: string, file: string, ablation?: string): Spec => ({
    id,
    label,
    runtime: "bun",
    kind: "gateway",
    floor: "bare-bun",
    cmd: (port, extra) => [
      BUN,
      ...extra,
      "run",
      "src/runtime/bun.ts",
      "--config",
      file,
      "--port",
      String(port),
    ],
    env: MAXREQ,
    announces: false,
    ...(ablation ? { ablation } : {}),
  });
  const ablations = [
    // The table's baseline: the default gateway warmed as the variants are (small JSON only).
    // gw-bun itself is warmed on every case (body30kv fills its prefix index), which read up to
    // ~2 µs a request dearer on c32 than the same gateway warmed on small JSON (fifteenth pass,
    // bench/overhead/bun-split.ts --warm-cases), and was read as the cost of the default profile.
    bunGateway(
      "gw-bun-plain",
      "gateway under Bun, defaults, warmed as the variants",
      config,
      "gateway under Bun, defaults, warmed on small JSON only like the variants (this table's baseline)",
    ),
    bunGateway(
      "gw-bun-silent",
      "gateway under Bun, logLevel silent",
      gatewayConfig("silent", { silent: true }),
      "no per-request log line",
    ),
    bunGateway(
      "gw-bun-noscrape",
      "gateway under Bun, scrapes every 600 s",
      gatewayConfig("noscrape", { noScrape: true }),
      "no background scraping during the run",
    ),
    bunGateway(
      "gw-bun-random",
      "gateway under Bun, random-picker profile",
      gatewayConfig("random", { randomPicker: true }),
      "random-picker instead of the default profile (no scorers, no prefix hashing)",
    ),
    bunGateway(
      "gw-bun-lean",
      "gateway under Bun, all three",
      gatewayConfig("lean", { silent: true, noScrape: true, randomPicker: true }),
      "silent + no scraping + random-picker",
    ),
  ];
  const bareBun = (id: string, label: string, flags: string[], ablation?: string): Spec => ({
    id,
    label,
    runtime: "bun",
    kind: "bare",
    ...(ablation ? { floor: "bare-bun", ablation } : {}),
    cmd: (port, extra) => [
      BUN,
      ...extra,
      "bench/overhead/bare-bun.ts",
      "--port",
      String(port),
      "--upstreams",
      ups,
      ...flags,
    ],
    env: MAXREQ,
    announces: true,
  });
  ablations.push(
    bareBun(
      "bare-bun-attempt",
      "bare Bun proxy + attempt()",
      ["--attempt"],
      "bare Bun proxy + the gateway's attempt() (src/proxy/attempt.ts)",
    ),
    bareBun(
      "bare-bun-relay",
      "bare Bun proxy + relay()",
      // JSON answers read whole, as the gateway's forward does; event streams through relay().
      ["--relay", "--read-whole"],
      "bare Bun proxy + the gateway's relay() and accounting tap for streams, JSON answers read whole (src/proxy/relay.ts, accounting.ts)",
    ),
  );
  const before: Spec[] = BASELINE
    ? [
        {
          ...bunGateway("gw-bun-base", `(c0) gateway under Bun, before (${BASELINE_NAME})`, config),
          cwd: BASELINE,
        },
        {
          id: "gw-node-base",
          label: `(d0) gateway under Node, before (${BASELINE_NAME})`,
          runtime: "node",
          kind: "gateway",
          floor: "bare-node",
          cmd: (port, extra) => [NODE, ...extra, bundles.base!, "--config", config, "--port", String(port)],
          announces: false,
          cwd: BASELINE,
        },
      ]
    : [];
  return [
    ...(CFG.ablation ? ablations : []),
    ...before,
    bareBun("bare-bun", "(b) bare Bun proxy: Bun.serve + fetch", []),
    // The same floor on the gateway's own pod client (src/runtime/bun-wire.ts): what a bare
    // proxy costs without Bun's fetch, so the gateway's ratio is also read against it.
    {
      ...bareBun(
        "bare-bun-wire",
        "(b') bare Bun proxy on the gateway's wire client: Bun.serve + Bun.connect",
        ["--wire"],
      ),
      floor: "bare-bun",
    },
    bunGateway("gw-bun", "(c) gateway under Bun", config),
    {
      id: "gw-node",
      label: "(d) gateway under Node (bundled: bun build --target=node)",
      runtime: "node",
      kind: "gateway",
      floor: "bare-node",
      cmd: (port, extra) => [NODE, ...extra, bundles.gw, "--config", config, "--port", String(port)],
      announces: false,
    },
    {
      id: "bare-node",
      label: "(e) bare Node proxy: node:http + undici.request",
      runtime: "node",
      kind: "bare",
      cmd: (port, extra) => [
        NODE,
        ...extra,
        bundles.bare,
        "--port",
        String(port),
        "--upstreams",
        ups,
        "--client",
        "undici",
      ],
      announces: true,
    },
    {
      id: "bare-node-fetch",
      label: "(e') bare Node proxy: node:http + global fetch",
      runtime: "node",
      kind: "bare",
      floor: "bare-node",
      cmd: (port, extra) => [
        NODE,
        ...extra,
        bundles.bare,
        "--port",
        String(port),
        "--upstreams",
        ups,
        "--client",
        "fetch",
      ],
      announces: true,
    },
    {
      id: "gw-node-tsx",
      label: "gateway under Node via tsx (opt-in)",
      runtime: "node",
      kind: "gateway",
      floor: "bare-node",
      cmd: (port, extra) => [
        NODE,
        ...extra,
        "--import",
        "tsx",
        "src/runtime/node.ts",
        "--config",
        config,
        "--port",
        String(port),
      ],
      announces: false,
    },
  ];
}
/**
 * BENCH_BASELINE: a checkout of an earlier tree (with node_modules) whose gateway runs
 * beside this one as gw-bun-base / gw-node-base, so "before" and "after" are measured in
 * the same interleaved rounds (e.g. `git archive <commit> | tar -x -C /tmp/base`).
 */
const BASELINE = env["BENCH_BASELINE"];
const BASELINE_NAME = env["BENCH_BASELINE_NAME"] ?? "BENCH_BASELINE";
const DEFAULT_TARGETS = [
  "direct",
  "bare-bun",
  "bare-bun-wire",
  "gw-bun",
  "gw-node",
  "bare-node",
  "bare-node-fetch",
  ...(BASELINE ? ["gw-bun-base", "gw-node-base"] : []),
];

/** The listed targets, and with BENCH_BASELINE the `-base` twin of each gateway among them. */
function withBaseTwins(listed: string[]): string[] {
  if (!BASELINE) return listed;
  const twins = listed.filter((t) => t === "gw-bun" || t === "gw-node").map((t) => `${t}-base`);
  return [...new Set([...listed, ...twins])];
}

async function launch(
  spec: Spec,
  extra: string[] = [],
  name = spec.id,
): Promise<{ proc: Proc; port: number }> {
  const port = await freePort();
  const proc = start(name, spec.cmd(port, extra), {
    core: CFG.core.proxy,
    env: spec.env ?? {},
    stdout: spec.announces ? "pipe" : "ignore", // the gateways' per-request log lines go to /dev/null
    log: logFile(name),
    cwd: spec.cwd ?? ROOT,
  });
  if (spec.announces) await firstJsonLine<{ port: number }>(proc);
  else await waitReady(`http://127.0.0.1:${port}`);
  return { proc, port };
}

/** Only the target under test may run among the gateways (the others are SIGSTOPped). */
async function activate(t: Target | undefined): Promise<void> {
  for (const g of gateways()) if (g !== t) signal(g.proc, "SIGSTOP");
  if (t?.kind === "gateway") {
    signal(t.proc, "SIGCONT");
    await sleep(300);
  }
}

const urlOf = (t: Target) => `http://127.0.0.1:${t.port}/v1/chat/completions`;

// ---------------------------------------------------------------- measurements

interface Measurement {
  round: number;
  caseId: string;
  target: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  requests: number;
  cpuUsPerReq: number;
  upstreamCpuUsPerReq: number;
}
const measurements: Measurement[] = [];

async function measure(t: Target, c: Case, round: number): Promise<Measurement> {
  await activate(t);
  const cpu0 = cpuTicks(t.proc.pid);
  const up0 = cpuTicks(upstream.pid);
  const w = await wrk(urlOf(t), c.script, c.conns, CFG.seconds);
  const cpu1 = cpuTicks(t.proc.pid);
  const up1 = cpuTicks(upstream.pid);
  const usPerTick = 1e6 / CLK_TCK;
  const m: Measurement = {
    round,
    caseId: c.id,
    target: t.id,
    rps: (w.requests * 1e6) / w.durationUs,
    p50Ms: w.p50 / 1000,
    p99Ms: w.p99 / 1000,
    errors: w.connect + w.read + w.write + w.timeout + w.status,
    requests: w.requests,
    cpuUsPerReq: ((cpu1 - cpu0) * usPerTick) / Math.max(1, w.requests),
    upstreamCpuUsPerReq: ((up1 - up0) * usPerTick) / Math.max(1, w.requests),
  };
  measurements.push(m);
  say(
    `  ${c.id.padEnd(7)} ${t.id.padEnd(16)} ${m.rps.toFixed(0).padStart(6)} req/s  p50 ${m.p50Ms.toFixed(3)} ms  p99 ${m.p99Ms.toFixed(3)} ms  ${m.cpuUsPerReq.toFixed(0)} µs CPU/req${m.errors ? `  ERRORS ${m.errors}` : ""}`,
  );
  return m;
}

/** One target's warm-up on one case: what it took to reach a steady CPU per request. */
interface WarmUp {
  target: string;
  caseId: string;
  seconds: number;
  requests: number;
  /** CPU µs a request of each slice, in order. */
  slices: number[];
}
const warmUps: WarmUp[] = [];

/**
 * Loads one target with one case in slices of BENCH_SECONDS until it has run at least
 * `minSeconds`, served BENCH_WARMUP_REQUESTS requests, and its CPU per request has stopped
 * falling (the last slice within 3 % of the best before it), or BENCH_WARMUP_MAX_S have passed.
 * Seconds alone are not enough on a loaded machine: the compilers work by call count.
 */
async function warmUp(t: Target, c: Case, minSeconds: number): Promise<void> {
  const slices: number[] = [];
  let seconds = 0;
  let requests = 0;
  const usPerTick = 1e6 / CLK_TCK;
  for (;;) {
    const cpu0 = cpuTicks(t.proc.pid);
    const w = await wrk(urlOf(t), c.script, c.conns, CFG.seconds);
    const cpuUs = (cpuTicks(t.proc.pid) - cpu0) * usPerTick;
    seconds += CFG.seconds;
    requests += w.requests;
    const slice = cpuUs / Math.max(1, w.requests);
    const best = slices.length ? Math.min(...slices) : Number.POSITIVE_INFINITY;
    slices.push(slice);
    const steady = slice >= best * 0.97;
    if (seconds >= CFG.warmupMaxSeconds) break;
    if (seconds >= minSeconds && requests >= (c.warmRequests ?? CFG.warmupRequests) && steady) break;
  }
  warmUps.push({ target: t.id, caseId: c.id, seconds, requests, slices });
  say(
    `  warm ${c.id.padEnd(7)} ${t.id.padEnd(16)} ${seconds} s, ${requests} requests: ${slices.map((x) => x.toFixed(0)).join(" → ")} µs CPU/req`,
  );
}

interface StreamStats {
  n: number;
  ok: number;
  errors: Record<string, number>;
  ttfbP50: number;
  ttfbP99: number;
  totalP50: number;
  totalP99: number;
  totalMax: number;
  openedMs?: number;
  wallMs?: number;
}

async function streamClient(args: string[], timeoutMs: number): Promise<StreamStats> {
  const { code, stdout } = await run("stream-client", [BUN, join(HERE, "stream-client.ts"), ...args], {
    core: CFG.core.load,
    env: MAXREQ,
    log: logFile("stream-client"),
    timeoutMs,
  });
  const line = stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(line) as StreamStats;
  } catch {
    throw new Error(
      `stream client failed (${code}): ${stdout.slice(-300)} (see ${logFile("stream-client")})`,
    );
  }
}

interface Ttfb {
  round: number;
  target: string;
  stats: StreamStats;
}
const ttfbs: Ttfb[] = [];
const TTFB_CHUNKS = 20;
const TTFB_INTERVAL_MS = 2;
const TTFB_CONCURRENCY = 2;
/** Ablation variants whose time to first byte is measured too. */
const TTFB_ABLATIONS = ["bare-bun-relay", "bare-bun-attempt", "gw-bun-lean"];

/** The first-byte case's client for `seconds`: time to each stream's first content chunk. */
function ttfbRun(t: Target, seconds: number): Promise<StreamStats> {
  return streamClient(
    [
      "ttfb",
      "--url",
      urlOf(t),
      "--concurrency",
      String(TTFB_CONCURRENCY),
      "--seconds",
      String(seconds),
      "--chunks",
      String(TTFB_CHUNKS),
      "--interval-ms",
      String(TTFB_INTERVAL_MS),
    ],
    (seconds + 30) * 1000,
  );
}

async function ttfb(t: Target, round: number): Promise<void> {
  await activate(t);
  const stats = await ttfbRun(t, CFG.ttfbSeconds);
  ttfbs.push({ round, target: t.id, stats });
  say(
    `  ttfb    ${t.id.padEnd(16)} first chunk p50 ${stats.ttfbP50.toFixed(3)} ms  p99 ${stats.ttfbP99.toFixed(3)} ms  (${stats.ok}/${stats.n} ok)`,
  );
}

/** Seconds of each slice of the first-byte case's warm-up. */
const TTFB_WARM_SLICE_S = 4;

/**
 * The first-byte case itself until its p50 stops falling, as every wrk case is warmed
 * (`warmUp`): slices of TTFB_WARM_SLICE_S for at least CFG.ttfbWarmupSeconds, until one is
 * within 5 % of the best before it (at most CFG.warmupMaxSeconds + 20 s). Its client's requests
 * and 2 ms-paced streams take branches and shapes the wrk cases do not: at the case's start JSC
 * threw away and recompiled ~26 of the gateway's request-path functions (OSR exits: forwardStage,
 * respond, admitStage, the wire client's head parse...; 63 FTL and 93 DFG compilations in its
 * first 90 s), and an unwarmed window read that. Twentieth pass: the gateway's p50 in 8 s windows
 * after the wrk cases read 1.17 ms, then 0.89-0.96, then 0.77-0.83 from ~40 s on, the bare wire
 * proxy's 0.63-0.94 and 0.77-0.78 (the machine's phases moving both).
 */
async function warmTtfb(t: Target): Promise<void> {
  const slices: number[] = [];
  let seconds = 0;
  let requests = 0;
  for (;;) {
    const s = await ttfbRun(t, TTFB_WARM_SLICE_S);
    seconds += TTFB_WARM_SLICE_S;
    requests += s.n;
    const best = slices.length ? Math.min(...slices) : Number.POSITIVE_INFINITY;
    const p50Us = s.ttfbP50 * 1000;
    slices.push(p50Us);
    if (seconds >= CFG.warmupMaxSeconds + 20) break;
    if (seconds >= CFG.ttfbWarmupSeconds && p50Us >= best * 0.95) break;
  }
  warmUps.push({ target: t.id, caseId: "ttfb", seconds, requests, slices });
  say(
    `  warm ttfb    ${t.id.padEnd(16)} ${seconds} s, ${requests} streams: ${slices.map((x) => (x / 1000).toFixed(3)).join(" → ")} ms first chunk p50`,
  );
}

interface MemoryResult {
  target: string;
  requests: number;
  errors: number;
  rssStartKb: number;
  samples: { at: number; rssKb: number }[];
  /** RSS after every wrk segment (a few seconds each): the floor and peak of each quarter. */
  dense: { at: number; rssKb: number }[];
  streams?: {
    n: number;
    stats: StreamStats;
    rssBeforeKb: number;
    rssPeakKb: number;
    rssAfterKb: number;
    /** TcpExt ListenOverflows during the test: SYNs dropped because the accept queue was full. */
    listenOverflows: number;
  };
}
const memory: MemoryResult[] = [];

/** Machine-wide count of connections dropped because a listen queue was full (/proc/net/netstat). */
function listenOverflows(): number {
  try {
    const lines = readFileSync("/proc/net/netstat", "utf8").split("\n");
    const head = lines.find((l) => l.startsWith("TcpExt:"))!.split(/\s+/);
    const vals = lines.filter((l) => l.startsWith("TcpExt:"))[1]!.split(/\s+/);
    return Number(vals[head.indexOf("ListenOverflows")] ?? 0);
  } catch {
    return 0;
  }
}

/** Each quarter of a memory run's requests: its lowest and highest RSS sample (empty without samples). */
function quarterFloors(m: MemoryResult): { floorKb: number; peakKb: number }[] {
  const out: { floorKb: number; peakKb: number }[] = [];
  for (let i = 0; i < 4; i++) {
    const xs = m.dense
      .filter((d) => d.at > (m.requests * i) / 4 && d.at <= (m.requests * (i + 1)) / 4)
      .map((d) => d.rssKb);
    if (xs.length === 0) return [];
    out.push({ floorKb: Math.min(...xs), peakKb: Math.max(...xs) });
  }
  return out;
}

async function memoryRun(t: Target, total: number, caseSmall: Case): Promise<void> {
  await activate(t);
  const rps =
    median(measurements.filter((m) => m.target === t.id && m.caseId === "c32").map((m) => m.rps)) || 2000;
  const step = total / 4;
  // Short wrk runs, so a sample is taken close to each quarter of the total.
  const seg = Math.max(1, Math.min(5, Math.floor(step / rps / 5)));
  const res: MemoryResult = {
    target: t.id,
    requests: 0,
    errors: 0,
    rssStartKb: rssKb(t.proc.pid),
    samples: [],
    dense: [],
  };
  let next = step;
  say(
    `memory: ${t.id}, ${total} requests at 32 connections (RSS at start ${(res.rssStartKb / 1024).toFixed(1)} MiB)`,
  );
  while (res.requests < total) {
    const w = await wrk(urlOf(t), caseSmall.script, 32, seg);
    res.requests += w.requests;
    res.errors += w.connect + w.read + w.write + w.timeout + w.status;
    res.dense.push({ at: res.requests, rssKb: rssKb(t.proc.pid) });
    if (res.requests >= next) {
      res.samples.push({ at: res.requests, rssKb: rssKb(t.proc.pid) });
      say(`  after ${res.requests} requests: RSS ${(res.samples.at(-1)!.rssKb / 1024).toFixed(1)} MiB`);
      while (next <= res.requests) next += step;
    }
  }
  memory.push(res);

  // Slow streams held at once.
  const n = CFG.streams;
  const intervalMs = 100;
  const chunks = Math.round((CFG.streamSeconds * 1000) / intervalMs);
  const rssBeforeKb = rssKb(t.proc.pid);
  let rssPeakKb = rssBeforeKb;
  const sampler = setInterval(() => {
    try {
      rssPeakKb = Math.max(rssPeakKb, rssKb(t.proc.pid));
    } catch {
      // process gone: reported by the client's errors
    }
  }, 200);
  say(`streams: ${t.id}, ${n} concurrent streams, one chunk per ${intervalMs} ms for ${CFG.streamSeconds} s`);
  const overflows0 = listenOverflows();
  const stats = await streamClient(
    [
      "hold",
      "--url",
      urlOf(t),
      "--streams",
      String(n),
      "--chunks",
      String(chunks),
      "--interval-ms",
      String(intervalMs),
      "--ramp-ms",
      "1000",
    ],
    (CFG.streamSeconds + 90) * 1000,
  );
  clearInterval(sampler);
  await sleep(1000);
  const rssAfterKb = rssKb(t.proc.pid);
  res.streams = {
    n,
    stats,
    rssBeforeKb,
    rssPeakKb,
    rssAfterKb,
    listenOverflows: listenOverflows() - overflows0,
  };
  say(
    `  ${stats.ok}/${stats.n} streams complete, errors ${JSON.stringify(stats.errors)}, RSS peak ${(rssPeakKb / 1024).toFixed(1)} MiB, stream p99 ${(stats.totalP99 / 1000).toFixed(2)} s`,
  );
}

// ---------------------------------------------------------------- profiles

interface ProfileRun {
  title: string;
  summary: ProfileSummary;
  rps: number;
}
const profiles: ProfileRun[] = [];
const micro: string[] = [];

async function profileRun(spec: Spec, c: Case, runtime: "bun" | "node", title: string, bundlePath?: string) {
  const dir = join(WORK, `prof-${spec.id}-${c.id}`);
  mkdirSync(dir, { recursive: true });
  const extra =
    runtime === "bun"
      ? ["--cpu-prof", `--cpu-prof-dir=${dir}`, "--cpu-prof-interval=1000"]
      : ["--cpu-prof", "--cpu-prof-dir", dir, "--cpu-prof-interval", "1000"];
  await activate(undefined);
  say(`profile: ${title}`);
  const { proc, port } = await launch(spec, extra, `prof-${spec.id}-${c.id}`);
  const url = `http://127.0.0.1:${port}/v1/chat/completions`;
  let rps = 0;
  try {
    await wrk(url, c.script, c.conns, CFG.warmupSeconds);
    const w = await wrk(url, c.script, c.conns, CFG.profileSeconds);
    rps = (w.requests * 1e6) / w.durationUs;
  } finally {
    await stop(proc, 15_000);
  }
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
  if (!file) {
    say(`  no .cpuprofile written in ${dir}`);
    return;
  }
  const summary = analyzeProfile(join(dir, file), {
    root: ROOT,
    top: 25,
    ...(bundlePath ? { bundle: bundlePath } : {}),
    ...(spec.kind === "bare" ? { window: /^bench\/overhead\/bare-/ } : {}),
    skipMs: CFG.warmupSeconds * 1000,
  });
  profiles.push({ title, summary, rps });
  say(
    `  ${summary.samples} samples; top: ${summary.selfTop.slice(0, 3).map((r) => `${r.what} ${r.pct.toFixed(1)}%`)}`,
  );
}

// ---------------------------------------------------------------- report

function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : "-");
const mib = (kb: number) => (kb / 1024).toFixed(1);
const sign = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(0)}` : "-");

function agg(caseId: string, target: string) {
  const ms = measurements.filter((m) => m.caseId === caseId && m.target === target);
  if (!ms.length) return undefined;
  return {
    rps: median(ms.map((m) => m.rps)),
    p50: median(ms.map((m) => m.p50Ms)),
    p99: median(ms.map((m) => m.p99Ms)),
    cpu: median(ms.map((m) => m.cpuUsPerReq)),
    upCpu: median(ms.map((m) => m.upstreamCpuUsPerReq)),
    errors: ms.reduce((a, m) => a + m.errors, 0),
    requests: ms.reduce((a, m) => a + m.requests, 0),
    rpsAll: ms.map((m) => m.rps),
  };
}

interface Meta {
  started: string;
  minutes: number;
  versions: Record<string, string>;
  waitedFor: string[];
  waitedS: number;
  foreignAtStart: { pct: number; top: string };
  foreign: { mean: number; max: number; top: string };
}

function evaluate(): string[] {
  const lines: string[] = [];
  const verdict = (ok: boolean | undefined) =>
    ok === undefined ? "not measured" : ok ? "**met**" : "**not met**";
  const cpuRatio = (c: string, t: string, floor: string) => {
    const a = agg(c, t);
    const b = agg(c, floor);
    return a && b ? a.cpu / b.cpu : Number.NaN;
  };
  const caseIds = [...new Set(measurements.map((m) => m.caseId))].filter((c) => c !== ABLATION_CASE);
  const ratios = (t: string, floor: string) =>
    caseIds.map((c) => `${c} ${f(cpuRatio(c, t, floor))}×`).join(", ");
  const allWithin = (t: string, floor: string, limit: number) => {
    const rs = caseIds.map((c) => cpuRatio(c, t, floor)).filter(Number.isFinite);
    return rs.length ? rs.every((r) => r <= limit) : undefined;
  };
  const c1 = agg("c1", "gw-bun");
  const d1 = agg("c1", "direct");
  const added = c1 && d1 ? c1.p50 - d1.p50 : Number.NaN;
  lines.push(
    `- Bun, CPU per request ≤ 1.5× the bare Bun proxy: ${verdict(allWithin("gw-bun", "bare-bun", 1.5))} (${ratios("gw-bun", "bare-bun")}).`,
    ...(caseIds.some((c) => agg(c, "bare-bun-wire"))
      ? [
          `- Bun, the same ratio against the bare proxy on the gateway's wire client (b', cheaper than fetch): ${ratios("gw-bun", "bare-bun-wire")}.`,
        ]
      : []),
    `- Bun, added p50 at one connection < 0.2 ms: ${verdict(Number.isFinite(added) ? added < 0.2 : undefined)} (${f(added, 3)} ms added vs the upstream directly; the bare Bun proxy adds ${f((agg("c1", "bare-bun")?.p50 ?? Number.NaN) - (d1?.p50 ?? Number.NaN), 3)} ms).`,
    `- Node, at most 1.5× the bare undici proxy (CPU per request): ${verdict(allWithin("gw-node", "bare-node", 1.5))} (${ratios("gw-node", "bare-node")}).`,
  );
  // Before and after, measured in the same rounds (BENCH_BASELINE).
  for (const [now, base] of [
    ["gw-bun", "gw-bun-base"],
    ["gw-node", "gw-node-base"],
  ] as const) {
    if (!caseIds.some((c) => agg(c, base))) continue;
    lines.push(
      `- ${now} CPU per request as a share of ${base} (${BASELINE_NAME}), same rounds: ${caseIds.map((c) => `${c} ${f(cpuRatio(c, now, base))}×`).join(", ")}.`,
    );
  }
  const bunMem = memory.find((m) => m.target === "gw-bun");
  for (const m of memory) {
    const rss = m.samples.map((s) => s.rssKb);
    const spread = rss.length ? (Math.max(...rss) - Math.min(...rss)) / Math.min(...rss) : Number.NaN;
    const q = quarterFloors(m);
    // The first quarter is the ramp from the previous case's heap to this load's steady state
    // (Node: 137 → 160 MiB over its first 15k requests, then flat): growth is judged after it.
    const growth = q.length === 4 ? q[3]!.floorKb / q[1]!.floorKb - 1 : Number.NaN;
    const flat = Number.isFinite(growth) ? growth <= 0.1 : undefined;
    lines.push(
      `- ${m.target}: RSS flat within 10 % over ${m.requests.toLocaleString("en")} requests (its floor in the last quarter against the second's, sampled after every wrk segment; the first quarter is the ramp to this load): ${verdict(flat)} (floor ${f(100 * growth, 1)} %; spread between the four quarter samples ${f(100 * spread, 1)} %, peaks ${q.map((x) => mib(x.peakKb)).join(" / ")} MiB).`,
    );
    if (m.streams) {
      const ok = m.streams.stats.ok === m.streams.n;
      lines.push(
        `- ${m.target}: ${m.streams.n} concurrent slow streams without errors: ${verdict(ok)} (${m.streams.stats.ok}/${m.streams.n} complete, RSS peak ${mib(m.streams.rssPeakKb)} MiB).`,
      );
    }
  }
  if (!bunMem && CFG.memory) lines.push("- memory: the Bun gateway was not part of this run");
  return lines;
}

/** "bench/x.ts, bench/y.ts; busy machine 5 times (up to 200 % of a core)" */
function summarizeWait(items: string[]): string {
  const benches = items.filter((i) => !i.startsWith("busy machine"));
  const busy = items.filter((i) => i.startsWith("busy machine"));
  const worst = Math.max(0, ...busy.map((b) => Number(/(\d+) %/.exec(b)?.[1] ?? 0)));
  const parts: string[] = [];
  if (benches.length) parts.push(`other benchmarks: ${benches.join(", ")}`);
  if (busy.length)
    parts.push(`machine busy at ${busy.length} checks, up to ${worst} % of a core used by others`);
  return parts.join("; ");
}

function report(meta: Meta): string {
  const out: string[] = [];
  const targetIds = targets.filter((t) => !t.ablation).map((t) => t.id);
  const caseIds = [...new Set(measurements.map((m) => m.caseId))].filter((c) => c !== ABLATION_CASE);
  out.push(
    "# Gateway overhead (issue #10)",
    "",
    `Generated by \`npm run bench:overhead\` (bench/overhead/run.ts) on ${meta.started}, ${f(meta.minutes, 1)} minutes (after ${meta.waitedS} s waiting for a quiet machine)${QUICK ? ", **BENCH_QUICK** (short, indicative only)" : ""}. The tree under test is the working tree at that time (other work was going on in it).`,
    "",
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, Linux ${release()}. ${Object.entries(
      meta.versions,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}.`,
    "",
    `Layout: ${hasTaskset ? "" : "(taskset missing: NOT pinned) "}load generator (wrk -t1, stream clients) on core ${CFG.core.load}, the mock upstream on core ${CFG.core.upstream}, the proxy under test on core ${CFG.core.proxy}; the gateways not under test are SIGSTOPped meanwhile. ` +
      `each target warmed by ${CFG.warmupSeconds} s of small JSON load and then each case measured, in ${CFG.seconds} s slices, for at least ${Math.max(1, Math.round(CFG.warmupSeconds / 2))} s and ${CFG.warmupRequests} requests and until its CPU per request stopped falling (a slice within 3 % of the best before it; at most ${CFG.warmupMaxSeconds} s; the table "Warm-up" below) (JIT)${CFG.ttfbWarmupSeconds > 0 ? `, and on the first-byte case itself in ${TTFB_WARM_SLICE_S} s slices for at least ${CFG.ttfbWarmupSeconds} s and until its p50 stopped falling (within 5 % of the best before it)` : ", the first-byte case not warmed on its own"}, ${CFG.rounds} round(s), targets interleaved within each case (order rotated each round), ${CFG.seconds} s per wrk run, medians over rounds. ` +
      `Mock upstream: ${upstreamPorts.length} ports of one Bun process (the gateway's ${upstreamPorts.length} endpoints; the bare proxies round-robin over them), prebuilt JSON/SSE answers, vLLM-style /metrics and /v1/models.`,
    "",
    `Gateway config: GatewayConfig with \`endpoints:\` (models learned from /v1/models), \`logLevel: info\` with stdout (the per-request log line) to /dev/null, default scrape interval (50 ms per endpoint), DEFAULT scheduling profile (no EndpointPickerConfig): metrics and logging on.`,
    "",
    `Machine load: ${meta.waitedFor.length ? `waited ${meta.waitedS} s before starting (${summarizeWait(meta.waitedFor)}). ` : "no other benchmark was running and the machine was quiet at start. "}` +
      `CPU used by processes outside this benchmark: ${f(meta.foreignAtStart.pct, 0)} % of a core at start${meta.foreignAtStart.top ? ` (${meta.foreignAtStart.top})` : ""}; ` +
      `during the run mean ${f(meta.foreign.mean, 0)} %, max ${f(meta.foreign.max, 0)} % of a core${meta.foreign.top ? ` (busiest: ${meta.foreign.top})` : ""}. ` +
      (meta.foreign.max > 25
        ? "**The machine was busy at times: numbers are noisier than usual.**"
        : "The machine was quiet."),
    "",
    "## Targets",
    "",
    ...evaluate(),
    "",
    "## Results",
    "",
    "req/s ratio and CPU ratio are against the bare proxy of the same runtime (b for Bun, e for Node); added latency is against the upstream directly (a). CPU µs/req: utime+stime of the proxy process (all threads) from /proc/<pid>/stat over the run ÷ requests completed (for (a), the upstream's own CPU).",
    "",
  );
  const labels = Object.fromEntries(targets.map((t) => [t.id, t.label]));
  for (const c of caseIds) {
    const label = CASES.find((x) => x.id === c)?.label ?? c;
    out.push(
      `### ${label}`,
      "",
      "| target | req/s | × bare | p50 ms | p99 ms | +p50 ms | +p99 ms | CPU µs/req | CPU × bare | errors |",
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    );
    const direct = agg(c, "direct");
    for (const id of targetIds) {
      const a = agg(c, id);
      if (!a) continue;
      const t = targets.find((x) => x.id === id)!;
      const b = t.floor ? agg(c, t.floor) : undefined;
      out.push(
        `| ${labels[id]} | ${f(a.rps, 0)} | ${b ? f(a.rps / b.rps) : "-"} | ${f(a.p50, 3)} | ${f(a.p99, 3)} | ${direct && id !== "direct" ? f(a.p50 - direct.p50, 3) : "-"} | ${direct && id !== "direct" ? f(a.p99 - direct.p99, 3) : "-"} | ${f(a.cpu, 0)} | ${b ? f(a.cpu / b.cpu) : "-"} | ${a.errors} |`,
      );
    }
    out.push("");
  }
  const ablated = targets.filter((t) => t.ablation);
  if (ablated.length && agg(ABLATION_CASE, "gw-bun")) {
    const asRun = agg(ABLATION_CASE, "gw-bun")!;
    const full = agg(ABLATION_CASE, "gw-bun-plain") ?? asRun;
    const bare = agg(ABLATION_CASE, "bare-bun");
    out.push(
      "### What the defaults cost (Bun gateway variants, 32 connections, small JSON body)",
      "",
      'The same gateway with one default turned off at a time, and the bare Bun proxy with one piece of the gateway\'s proxy code added at a time, all measured in their own interleaved rounds. CPU differences say what each piece costs per request on this load. The variants are warmed on small JSON only, so the column "vs gateway defaults" compares them with a default gateway warmed the same way; the gateway of the tables above, warmed on every case (its prefix index filled by body30kv), is the row below it.',
      "",
      "| variant | req/s | p50 ms | CPU µs/req | vs gateway defaults µs/req | vs bare floor µs/req | CPU × bare |",
      "|---|---:|---:|---:|---:|---:|---:|",
    );
    const row = (label: string, a: NonNullable<ReturnType<typeof agg>>) =>
      out.push(
        `| ${label} | ${f(a.rps, 0)} | ${f(a.p50, 3)} | ${f(a.cpu, 0)} | ${sign(a.cpu - full.cpu)} | ${bare ? sign(a.cpu - bare.cpu) : "-"} | ${bare ? f(a.cpu / bare.cpu) : "-"} |`,
      );
    if (bare) row("bare Bun proxy (floor)", bare);
    row("gateway under Bun, defaults (as in the tables above, warmed on every case)", asRun);
    for (const t of ablated) {
      const a = agg(ABLATION_CASE, t.id);
      if (a) row(`${t.ablation}`, a);
    }
    out.push("");
  }
  if (ttfbs.length) {
    out.push(
      `### Streaming: time to first byte (SSE, ${TTFB_CHUNKS} chunks ${TTFB_INTERVAL_MS} ms apart, ${TTFB_CONCURRENCY} concurrent clients, fetch + reader)`,
      "",
      "| target | first chunk p50 ms | p99 ms | +p50 ms | +p99 ms | whole stream p50 ms | streams ok |",
      "|---|---:|---:|---:|---:|---:|---:|",
    );
    const by = (id: string) => ttfbs.filter((x) => x.target === id);
    const d = by("direct");
    const dp50 = median(d.map((x) => x.stats.ttfbP50));
    const dp99 = median(d.map((x) => x.stats.ttfbP99));
    for (const id of [...targetIds, ...TTFB_ABLATIONS]) {
      const xs = by(id);
      if (!xs.length) continue;
      const p50 = median(xs.map((x) => x.stats.ttfbP50));
      const p99 = median(xs.map((x) => x.stats.ttfbP99));
      const ok = xs.reduce((a, x) => a + x.stats.ok, 0);
      const n = xs.reduce((a, x) => a + x.stats.n, 0);
      out.push(
        `| ${labels[id]}${targets.find((t) => t.id === id)?.ablation ? " (in the ablation rounds)" : ""} | ${f(p50, 3)} | ${f(p99, 3)} | ${id === "direct" ? "-" : f(p50 - dp50, 3)} | ${id === "direct" ? "-" : f(p99 - dp99, 3)} | ${f(median(xs.map((x) => x.stats.totalP50)), 2)} | ${ok}/${n} |`,
      );
    }
    out.push("");
  }
  if (memory.length) {
    out.push(
      "## Memory",
      "",
      "RSS of the gateway process (VmRSS), sampled at each quarter of the request count (32 connections, small JSON body), and after every wrk segment of a few seconds: each quarter's lowest and highest sample. A collected runtime's RSS follows its heap between full collections (a sawtooth); its floor is what grows when something is kept.",
      "",
      "| gateway | start MiB | samples (requests: MiB) | spread | floor / peak per quarter MiB | errors |",
      "|---|---:|---|---:|---|---:|",
    );
    for (const m of memory) {
      const rss = m.samples.map((s) => s.rssKb);
      const spread = rss.length ? (Math.max(...rss) - Math.min(...rss)) / Math.min(...rss) : Number.NaN;
      const q = quarterFloors(m);
      out.push(
        `| ${labels[m.target]} | ${mib(m.rssStartKb)} | ${m.samples.map((s) => `${Math.round(s.at / 1000)}k: ${mib(s.rssKb)}`).join(", ")} | ${f(100 * spread, 1)} % | ${q.map((x) => `${mib(x.floorKb)} / ${mib(x.peakKb)}`).join(", ")} | ${m.errors} |`,
      );
    }
    out.push(
      "",
      `Slow streams: N clients open a stream each within 1 s (Bun fetch client, BUN_CONFIG_MAX_HTTP_REQUESTS=65535, core ${CFG.core.load}); the mock sends one chunk per 100 ms for ${CFG.streamSeconds} s.`,
      "",
      "| gateway | streams | complete | errors | RSS before MiB | RSS peak MiB | RSS 1 s after MiB | first chunk p50 / p99 s | stream duration p50 / p99 / max s | listen-queue overflows |",
      "|---|---:|---:|---|---:|---:|---:|---|---|---:|",
    );
    for (const m of memory) {
      if (!m.streams) continue;
      const s = m.streams;
      out.push(
        `| ${labels[m.target]} | ${s.n} | ${s.stats.ok} | ${Object.keys(s.stats.errors).length ? JSON.stringify(s.stats.errors).replaceAll("|", "/") : "none"} | ${mib(s.rssBeforeKb)} | ${mib(s.rssPeakKb)} | ${mib(s.rssAfterKb)} | ${f(s.stats.ttfbP50 / 1000)} / ${f(s.stats.ttfbP99 / 1000)} | ${f(s.stats.totalP50 / 1000)} / ${f(s.stats.totalP99 / 1000)} / ${f(s.stats.totalMax / 1000)} | ${s.listenOverflows} |`,
      );
    }
    out.push("");
  }
  if (profiles.length) {
    out.push(
      "## CPU profiles",
      "",
      `Each profile is a separate process started with the profiler on (Bun: \`bun --cpu-prof\`; Node: \`node --cpu-prof\` on the bundle), loaded by wrk for ${CFG.warmupSeconds} s of warm-up (left out of the window) and ${CFG.profileSeconds} s profiled, then stopped with SIGTERM. Percentages are of the JS thread's samples in the load window (Bun's HTTP client thread, which the bare fetch proxy's pod calls run on and the gateway's wire client does not use, is not sampled: its cost shows in the CPU µs/req above, not here; the gateway's pod writes show on its JS thread). Bun reports the self line of each function ("hot line"); for the Node bundle, lines are the function's definition found by name (~). Profiles are kept in \`${WORK}\` (open them in Chrome DevTools or VS Code).`,
      "",
    );
    for (const p of profiles)
      out.push(profileMarkdown(`${p.title} (${f(p.rps, 0)} req/s while profiled)`, p.summary, p.rps));
  }
  if (micro.length) {
    out.push(
      "## Micro-costs of the per-request building blocks",
      "",
      "`bench/overhead/micro.ts`, each operation alone in a loop on the proxy core (Bun, then Node on the bundle); the count per request is read from the code for one small chat request under the default config.",
      "",
      ...micro,
    );
  }
  const analysis = join(HERE, "analysis.md");
  if (existsSync(analysis)) out.push(readFileSync(analysis, "utf8").trim(), "");
  out.push(
    "## Reproduce",
    "",
    "```sh",
    "apt-get install -y wrk                     # the load generator (Debian package)",
    "npm run bench:overhead                     # full run, ~20 min, writes bench/results/overhead.md",
    "BENCH_QUICK=1 npm run bench:overhead       # ~3-4 min smoke run (one short round), writes to $TMPDIR/overhead-quick.md",
    "BENCH_TARGETS=direct,bare-bun,gw-bun BENCH_CASES=c1,c32 BENCH_MEMORY=0 BENCH_PROFILE=0 npm run bench:overhead",
    "bun bench/overhead/profile.ts <file.cpuprofile> [--bundle gw-node.mjs]   # summarize any profile",
    "```",
    "",
    "Knobs: BENCH_ROUNDS, BENCH_SECONDS, BENCH_TTFB_SECONDS (0: no first-byte case), BENCH_TTFB_WARMUP_S (the first-byte case's own warm-up, 0: none), BENCH_TARGETS (direct, bare-bun, bare-bun-wire, gw-bun, gw-node, bare-node, bare-node-fetch, gw-node-tsx), BENCH_CASES (c1, c32, c128, body30k, body30kv, sse32, sse32p), BENCH_MEMORY=0, BENCH_PROFILE=0, BENCH_MEM_REQUESTS, BENCH_MEM_REQUESTS_NODE, BENCH_STREAMS, BENCH_STREAM_SECONDS, BENCH_PROFILE_SECONDS, BENCH_WARMUP_S, BENCH_WARMUP_REQUESTS, BENCH_WARMUP_MAX_S, BENCH_ENDPOINTS, BENCH_WAIT_MAX_S, BENCH_QUIET_PCT, BENCH_ABLATION=0, BENCH_MICRO=0, BENCH_OUT, BENCH_BASELINE (+ gw-bun-base, gw-node-base), BENCH_BASELINE_NAME. Every process the run starts is in its own process group and is killed at the end, also on error or Ctrl-C.",
    "",
    "<details><summary>every run (round, case, target, req/s, p50, p99, CPU µs/req, upstream CPU µs/req, errors)</summary>",
    "",
    "| round | case | target | req/s | p50 ms | p99 ms | CPU µs/req | upstream µs/req | errors |",
    "|---:|---|---|---:|---:|---:|---:|---:|---:|",
    ...measurements.map(
      (m) =>
        `| ${m.round} | ${m.caseId} | ${m.target} | ${f(m.rps, 0)} | ${f(m.p50Ms, 3)} | ${f(m.p99Ms, 3)} | ${f(m.cpuUsPerReq, 0)} | ${f(m.upstreamCpuUsPerReq, 0)} | ${m.errors} |`,
    ),
    "",
    "</details>",
    "",
    "<details><summary>warm-up (target, case, seconds, requests, CPU µs/req of each slice)</summary>",
    "",
    "| target | case | seconds | requests | CPU µs/req by slice (case ttfb: first chunk p50 µs by slice) |",
    "|---|---|---:|---:|---|",
    ...warmUps.map(
      (w) =>
        `| ${w.target} | ${w.caseId} | ${w.seconds} | ${w.requests} | ${w.slices.map((x) => f(x, 0)).join(" → ")} |`,
    ),
    "",
    "</details>",
    "",
  );
  return out.join("\n");
}

// ---------------------------------------------------------------- main

let CASES: Case[] = [];
const ABLATION_CASE = "ablation";

/**
 * Waits (polling every 30 s, up to BENCH_WAIT_MAX_S) while another engineer's benchmark
 * runs, or while processes outside this one use more than BENCH_QUIET_PCT % of a core.
 * Returns what it waited for.
 */
async function waitForQuietMachine(): Promise<{ waitedFor: string[]; waitedS: number }> {
  const seen = new Set<string>();
  const t0 = Date.now();
  const until = t0 + CFG.waitMaxS * 1000;
  for (;;) {
    const others = otherBenchmarks();
    for (const o of others) seen.add(/bench\/\S+/.exec(o)?.[0] ?? o.slice(0, 80));
    let busy = "";
    if (!others.length) {
      const probe = new ForeignCpu();
      await sleep(5000);
      const s = probe.sample();
      if (s.pct > CFG.quietPct) {
        busy = `${s.pct.toFixed(0)} % of a core used by others (${s.top})`;
        seen.add(`busy machine: ${busy}`);
      }
    }
    const waitedS = Math.round((Date.now() - t0) / 1000);
    if (!others.length && !busy) return { waitedFor: [...seen], waitedS };
    if (Date.now() > until) {
      say(`still busy after ${CFG.waitMaxS} s; going on anyway`);
      return { waitedFor: [...seen, `still busy after ${CFG.waitMaxS} s: started anyway`], waitedS };
    }
    say(`waiting: ${others.length ? `another benchmark runs: ${others.join(" | ")}` : busy}`);
    await sleep(30_000);
  }
}

function versions(): Record<string, string> {
  const v = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { stdio: ["ignore", "pipe", "pipe"] })
        .toString()
        .split("\n")[0]!
        .trim();
    } catch (err) {
      return ((err as { stdout?: Buffer }).stdout?.toString() ?? "?").split("\n")[0]!.trim();
    }
  };
  const undici = JSON.parse(readFileSync(join(ROOT, "node_modules/undici/package.json"), "utf8")) as {
    version: string;
  };
  return {
    bun: Bun.version,
    node: v(NODE, ["--version"]),
    "node's bundled undici": v(NODE, ["-p", "process.versions.undici"]),
    "npm undici": undici.version,
    wrk: v("wrk", ["--version"]).replace(/ Copyright.*/, ""),
  };
}

async function main(): Promise<void> {
  killAllOnExit();
  const t0 = Date.now();
  if (hasTaskset) {
    try {
      execFileSync("taskset", ["-pc", CFG.core.load, String(process.pid)], { stdio: "ignore" });
    } catch {
      // fine: only the children's pinning matters
    }
  }
  try {
    execFileSync("wrk", ["--version"], { stdio: "ignore" });
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT")
      throw new Error("wrk is not installed: apt-get update && apt-get install -y wrk");
  }
  say(`work dir ${WORK}`);
  const { waitedFor, waitedS } = await waitForQuietMachine();
  const runStart = Date.now();
  const monitor = new ForeignCpu();
  await sleep(3000);
  const foreignAtStart = monitor.sample();
  say(`CPU outside this benchmark: ${foreignAtStart.pct.toFixed(0)} % of a core (${foreignAtStart.top})`);
  monitor.startEvery(5000);

  say("bundling the Node builds (bun build --target=node)");
  const bundles = {
    gw: bundle("src/runtime/node.ts", "gw-node"),
    bare: bundle("bench/overhead/bare-node.ts", "bare-node"),
    ...(BASELINE ? { base: bundle("src/runtime/node.ts", "gw-node-base", BASELINE) } : {}),
  };

  upstream = start(
    "upstream",
    [BUN, join(HERE, "upstream.ts"), "--ports", Array(CFG.endpoints).fill("0").join(",")],
    { core: CFG.core.upstream, stdout: "pipe", log: logFile("upstream"), cwd: ROOT },
  );
  upstreamPorts = (await firstJsonLine<{ ports: number[] }>(upstream)).ports;
  say(`mock upstream on ${upstreamPorts.join(", ")}`);

  const config = gatewayConfig();
  specs = defineSpecs(config, bundles);
  // With BENCH_BASELINE, each listed gateway brings its "before" twin (gw-bun → gw-bun-base),
  // so a run that names its targets still measures before and after in the same rounds.
  const wanted = CFG.targets.length ? withBaseTwins(CFG.targets) : DEFAULT_TARGETS;
  if (wanted.includes("direct"))
    targets.push({
      id: "direct",
      label: "(a) upstream directly",
      runtime: "",
      kind: "direct",
      port: upstreamPorts[0]!,
      proc: upstream,
    });
  for (const spec of specs) {
    if (!wanted.includes(spec.id) && !(spec.ablation && wanted.includes("gw-bun"))) continue;
    const { proc, port } = await launch(spec);
    const t: Target = { id: spec.id, label: spec.label, runtime: spec.runtime, kind: spec.kind, port, proc };
    if (spec.ablation) t.ablation = spec.ablation;
    if (spec.floor && wanted.includes(spec.floor)) t.floor = spec.floor;
    targets.push(t);
    say(`${spec.id} on ${port} (pid ${proc.pid})`);
  }

  const small = lua("small", BODIES.small);
  const allCases: Case[] = [
    { id: "c1", label: "1 connection, small JSON body (~130 B), JSON answer", conns: 1, script: small },
    { id: "c32", label: "32 connections, small JSON body, JSON answer", conns: 32, script: small },
    { id: "c128", label: "128 connections, small JSON body, JSON answer", conns: 128, script: small },
    {
      id: "body30k",
      label: "32 connections, 30 KiB JSON body, JSON answer",
      conns: 32,
      script: lua("big", BODIES.big),
    },
    {
      id: "body30kv",
      label:
        "32 connections, 30 KiB JSON body, a different prompt every request (no shared block), JSON answer",
      conns: 32,
      script: lua("bigvary", BODIES.big, {}, true),
    },
    {
      id: "sse32",
      label: "32 connections, SSE answer (20 chunks, sent at once), read to the end by wrk",
      conns: 32,
      script: lua("stream", BODIES.stream, { "x-mock-chunks": "20" }),
    },
    {
      // The issue's own SSE case: the pod sends a chunk every 5 ms, as a pod generating
      // tokens does, so every stream is relayed chunk by chunk.
      id: "sse32p",
      label: "32 connections, SSE answer (20 chunks 5 ms apart), read to the end by wrk",
      conns: 32,
      script: lua("paced", BODIES.stream, { "x-mock-chunks": "20", "x-mock-interval-ms": "5" }),
      warmRequests: QUICK ? 500 : 5_000,
    },
  ];
  CASES = CFG.cases.length ? allCases.filter((c) => CFG.cases.includes(c.id)) : allCases;

  /** Seconds of each non-small case in a target's warm-up, after the small JSON load. */
  const CASE_WARMUP_S = Math.max(1, Math.round(CFG.warmupSeconds / 2));
  say("warm-up");
  for (const t of targets) {
    await activate(t);
    await wrk(urlOf(t), small, 32, CFG.warmupSeconds);
    // Then every other case measured, until it is warm (warmUp): a relayed stream or a large
    // body runs code a small JSON request does not, which JSC compiles by call count (at ~300
    // paced streams a second it was still compiling the relay 25 s in when only JSON warmed it).
    if (!t.ablation) for (const c of CASES) await warmUp(t, c, c.script === small ? 0 : CASE_WARMUP_S);
    // And the first-byte case, for every target whose first byte is measured.
    if (CFG.ttfbSeconds > 0 && CFG.ttfbWarmupSeconds > 0 && (!t.ablation || TTFB_ABLATIONS.includes(t.id)))
      await warmTtfb(t);
  }

  const main = targets.filter((t) => !t.ablation);
  const rotate = (ts: Target[], round: number) => ts.map((_, i) => ts[(i + round - 1) % ts.length]!);
  for (let round = 1; round <= CFG.rounds; round++) {
    say(`round ${round}/${CFG.rounds}`);
    const order = rotate(main, round);
    for (const c of CASES) for (const t of order) await measure(t, c, round);
    if (CFG.ttfbSeconds > 0) for (const t of order) await ttfb(t, round);
  }

  const ablated = targets.filter((t) => t.ablation || t.id === "gw-bun" || t.id === "bare-bun");
  if (targets.some((t) => t.ablation)) {
    const c32 = allCases[1]!;
    const ablationCase: Case = { ...c32, id: ABLATION_CASE, label: `ablation: ${c32.label}` };
    for (let round = 1; round <= CFG.rounds; round++) {
      say(`ablation round ${round}/${CFG.rounds} (Bun gateway variants, 32 connections)`);
      for (const t of rotate(ablated, round)) await measure(t, ablationCase, round);
      for (const t of rotate(ablated, round)) if (TTFB_ABLATIONS.includes(t.id)) await ttfb(t, round);
    }
  }

  if (CFG.memory) {
    const smallCase = allCases[1]!;
    const gwBun = targets.find((t) => t.id === "gw-bun");
    const gwNode = targets.find((t) => t.id === "gw-node");
    if (gwBun) await memoryRun(gwBun, CFG.memRequests, smallCase);
    if (gwNode && CFG.memRequestsNode > 0) await memoryRun(gwNode, CFG.memRequestsNode, smallCase);
  }

  if (CFG.profile) {
    await activate(undefined);
    const spec = (id: string) => specs.find((s) => s.id === id)!;
    const [c1, c32] = [allCases[0]!, allCases[1]!];
    await profileRun(spec("gw-bun"), c1, "bun", "Gateway under Bun, 1 connection");
    await profileRun(spec("gw-bun"), c32, "bun", "Gateway under Bun, 32 connections");
    await profileRun(spec("bare-bun"), c32, "bun", "Bare Bun proxy, 32 connections (for comparison)");
    await profileRun(spec("gw-node"), c32, "node", "Gateway under Node (bundle), 32 connections", bundles.gw);
  }

  if (CFG.micro) {
    await activate(undefined);
    const microNode = bundle("bench/overhead/micro.ts", "micro-node");
    for (const [name, cmd] of [
      ["bun", [BUN, "bench/overhead/micro.ts"]],
      ["node", [NODE, microNode]],
    ] as const) {
      say(`micro-costs under ${name}`);
      const out = join(WORK, `micro-${name}.md`);
      const p = start(`micro-${name}`, [...cmd, "--out", out], {
        core: CFG.core.proxy,
        stdout: "ignore",
        log: logFile(`micro-${name}`),
        cwd: ROOT,
      });
      await Promise.race([p.exited, sleep(120_000)]);
      await stop(p);
      if (existsSync(out)) micro.push(readFileSync(out, "utf8"));
    }
  }

  monitor.stopTimer();
  const fs = monitor.samples.slice(1);
  const busiest = [...fs].sort((a, b) => b.pct - a.pct)[0];
  const meta: Meta = {
    started: new Date(t0).toISOString().replace("T", " ").slice(0, 16) + " UTC",
    minutes: (Date.now() - runStart) / 60000,
    versions: versions(),
    waitedFor,
    waitedS,
    foreignAtStart,
    foreign: {
      mean: fs.length ? fs.reduce((a, s) => a + s.pct, 0) / fs.length : 0,
      max: busiest?.pct ?? 0,
      top: busiest?.top ?? "",
    },
  };
  writeFileSync(
    join(WORK, "results.json"),
    JSON.stringify({ CFG, meta, measurements, warmUps, ttfbs, memory }, null, 2),
  );
  const md = report(meta);
  mkdirSync(resolve(CFG.out, ".."), { recursive: true });
  writeFileSync(CFG.out, md);
  say(`wrote ${relative(process.cwd(), CFG.out) || CFG.out} (raw data and profiles in ${WORK})`);
}

let failed = false;
try {
  await main();
} catch (err) {
  failed = true;
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  console.error(`logs in ${WORK}`);
} finally {
  await stopAll();
}
process.exit(failed ? 1 : 0);
