/**
 * A freshly started gateway's first seconds, with and without the start-up warm-up
 * (src/runtime/warm-up.ts; GATEWAY_WARMUP_MS): what the first users after a rollout get.
 *
 * Each round starts a new gateway process per variant (order alternated) as the README starts
 * it (default profile, metrics and the request log on, 4 endpoints on the overhead benchmark's
 * mock pods, bench/overhead/upstream.ts), waits for /readyz, sends its first requests one at a
 * time (200 small JSON, 50 streams, 50 new 30 KiB prompts: each one's time, to the first byte
 * for streams) and then loads it with a fixed sequence of wrk slices: small JSON at one connection (1 s, 1 s, 2 s), small JSON at 32
 * connections (2 s), streams at 32 (2 s), new 30 KiB prompts at 32 (2 s). Per slice: latency
 * p50 / p99, the gateway's CPU a request, and its scheduling decisions over 0.2 ms and over
 * 0.5 ms (the scheduler's e2e histogram, GIE's `inference_extension_scheduler_e2e_duration_seconds`,
 * read from /metrics before and after). Also the time from spawn to /readyz answering (the
 * warm-up's price at start).
 *
 * Layout as run.ts: wrk and the mock pods on core 0, the gateway on core 1.
 *
 *   flock /tmp/bench.lock bun bench/overhead/cold-start.ts [--rounds 5] [--runtime bun|node] [--endpoints 64]
 *     [--variants warm=1000,cold=0] [--gw-root <checkout>]
 */

import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { BUN_START_ENV } from "../../src/runtime/bun-start-env.ts";
import { bigBody, SMALL } from "./bodies.ts";
import { CLK_TCK, cpuTicks, freePort, killAllOnExit, type Proc, start, stop, stopAll } from "./procs.ts";
import {
  gatewayConfig,
  median,
  PROXY_CORE,
  type SplitCase,
  type SplitTarget,
  splitCases,
  startMockPods,
  wrkOn,
} from "./split-lib.ts";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    runtime: { type: "string", default: "bun" },
    /** Endpoints (mock pods, one port each): 64 puts the decision at the issue's 64 endpoints. */
    endpoints: { type: "string", default: "4" },
    /** name=GATEWAY_WARMUP_MS pairs. */
    variants: { type: "string", default: "warm=1000,cold=0" },
    "gw-root": { type: "string", default: "" },
  },
});
const ROOT = resolve(import.meta.dir, "../..");
const GW_ROOT = values["gw-root"] ? resolve(values["gw-root"]) : ROOT;
const WORK = mkdtempSync(join(tmpdir(), "cold-start-"));
const log = (name: string) => join(WORK, `${name}.log`);
const say = (s: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${s}`);
const VARIANTS = values.variants.split(",").map((v) => {
  const [name, ms] = v.split("=");
  return { name: name!, ms: ms! };
});

const { all } = splitCases(WORK, "c32");
const caseOf = (id: string) => all.find((c) => c.id === id)!;
/** The slices, in order, right after /readyz answers. */
const SLICES: { label: string; c: SplitCase; seconds: number }[] = [
  { label: "c1 0-1 s", c: caseOf("c1"), seconds: 1 },
  { label: "c1 1-2 s", c: caseOf("c1"), seconds: 1 },
  { label: "c1 2-4 s", c: caseOf("c1"), seconds: 2 },
  { label: "c32 4-6 s", c: caseOf("c32"), seconds: 2 },
  { label: "sse32 6-8 s", c: caseOf("sse32"), seconds: 2 },
  { label: "body30kv 8-10 s", c: caseOf("body30kv"), seconds: 2 },
];

let nodeBundle = "";
function gatewayCommand(config: string, port: number): string[] {
  if (values.runtime === "node") {
    if (!nodeBundle) {
      nodeBundle = join(WORK, "gw-node.mjs");
      execFileSync(
        process.execPath,
        ["build", "--target=node", "src/runtime/node.ts", "--outfile", nodeBundle],
        {
          cwd: GW_ROOT,
          stdio: "pipe",
        },
      );
    }
    return ["node", nodeBundle, "--config", config, "--port", String(port)];
  }
  return [process.execPath, "run", "src/runtime/bun.ts", "--config", config, "--port", String(port)];
}

/** The scheduler's e2e histogram: cumulative counts at 0.2 ms, 0.5 ms and in all. */
async function decisions(port: number): Promise<{ le02: number; le05: number; all: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out = { le02: 0, le05: 0, all: 0 };
  for (const line of text.split("\n")) {
    if (!line.startsWith("inference_extension_scheduler_e2e_duration_seconds_bucket")) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    const n = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (le === "0.0002") out.le02 += n;
    else if (le === "0.0005") out.le05 += n;
    else if (le === "+Inf") out.all += n;
  }
  return out;
}

const BIG = bigBody(30 * 1024);

/**
 * The very first requests, one at a time from this process (the same client for every
 * variant): `n` of them, each body from `body(i)`; each one's time to its first body byte
 * (a stream) or to its whole answer, in ms, in order.
 */
async function firstRequests(
  port: number,
  n: number,
  body: (i: number) => object,
  stream: boolean,
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(stream ? { "x-mock-chunks": "20" } : {}) },
      body: JSON.stringify(body(i)),
    });
    const reader = res.body!.getReader();
    let first = true;
    for (;;) {
      const r = await reader.read();
      if (first && stream) {
        out.push(performance.now() - t0);
        first = false;
      }
      if (r.done) break;
    }
    if (!stream) out.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`first requests: status ${res.status}`);
  }
  return out;
}

/** The first-request phases, in order, before the wrk slices. */
const FIRSTS: { label: string; n: number; body: (i: number) => object; stream: boolean }[] = [
  { label: "first 200 small JSON", n: 200, body: () => SMALL, stream: false },
  { label: "first 50 streams (first byte)", n: 50, body: () => ({ ...SMALL, stream: true }), stream: true },
  {
    label: "first 50 new 30 KiB prompts",
    n: 50,
    body: (i) => ({
      ...BIG,
      messages: [
        { role: "user", content: `${i}-${Date.now()} ${(BIG.messages[0] as { content: string }).content}` },
      ],
    }),
    stream: false,
  },
];

interface FirstRow {
  variant: string;
  label: string;
  times: number[];
}

interface SliceRow {
  variant: string;
  label: string;
  p50: number;
  p99: number;
  rps: number;
  cpu: number;
  over02: number;
  over05: number;
}

async function startGateway(
  id: string,
  config: string,
  warmMs: string,
): Promise<{ t: SplitTarget; startMs: number }> {
  const port = await freePort();
  const t0 = performance.now();
  const proc: Proc = start(id, gatewayCommand(config, port), {
    core: PROXY_CORE,
    env: { ...BUN_START_ENV, GATEWAY_WARMUP_MS: warmMs },
    stdout: "ignore",
    log: log(id),
    cwd: GW_ROOT,
  });
  // /readyz (it answers and has scraped a pod: what a rollout waits for), polled every 5 ms (waitHealthy's 50 ms would blur the start-up time).
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (!proc.alive) throw new Error(`${id} exited during start-up (see ${log(id)})`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return { t: { id, proc, port }, startMs: performance.now() - t0 };
}

async function main(): Promise<void> {
  killAllOnExit();
  say(`work dir ${WORK}`);
  const { ports } = await startMockPods(log("upstream"), ROOT, undefined, Number(values.endpoints));
  const config = gatewayConfig(WORK, "gw", ports);
  const rows: SliceRow[] = [];
  const firsts: FirstRow[] = [];
  const starts = new Map<string, number[]>();
  const rounds = Number(values.rounds);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
    for (const v of order) {
      const { t, startMs } = await startGateway(`${v.name}-${round}`, config, v.ms);
      starts.set(v.name, [...(starts.get(v.name) ?? []), startMs]);
      const parts: string[] = [];
      for (const f of FIRSTS) {
        const times = await firstRequests(t.port, f.n, f.body, f.stream);
        firsts.push({ variant: v.name, label: f.label, times });
        parts.push(`${f.label}: median ${median(times).toFixed(3)} max ${Math.max(...times).toFixed(2)} ms`);
      }
      for (const s of SLICES) {
        const d0 = await decisions(t.port);
        const c0 = cpuTicks(t.proc.pid);
        const w = await wrkOn(t, s.c, s.seconds, log("wrk"));
        const cpuUs = ((cpuTicks(t.proc.pid) - c0) * 1e6) / CLK_TCK;
        const d1 = await decisions(t.port);
        const n = Math.max(1, d1.all - d0.all);
        const row: SliceRow = {
          variant: v.name,
          label: s.label,
          p50: w.p50 / 1000,
          p99: w.p99 / 1000,
          rps: (w.requests * 1e6) / w.durationUs,
          cpu: cpuUs / Math.max(1, w.requests),
          over02: (100 * (n - (d1.le02 - d0.le02))) / n,
          over05: (100 * (n - (d1.le05 - d0.le05))) / n,
        };
        rows.push(row);
        parts.push(
          `${s.label}: p50 ${row.p50.toFixed(3)} p99 ${row.p99.toFixed(2)} ms, ${row.cpu.toFixed(0)} µs`,
        );
      }
      say(`round ${round} ${v.name}: up in ${startMs.toFixed(0)} ms; ${parts.join("; ")}`);
      await stop(t.proc);
    }
  }
  const out = [
    `A new gateway's first seconds (${values.runtime}, ${values.endpoints} endpoints), medians of ${rounds} fresh processes per variant (${new Date().toISOString()}; variants: ${VARIANTS.map((v) => `${v.name} GATEWAY_WARMUP_MS=${v.ms}`).join(", ")})`,
    "",
    `Spawn to /readyz: ${VARIANTS.map((v) => `${v.name} ${median(starts.get(v.name)!).toFixed(0)} ms`).join(", ")}`,
    "",
    "Each fresh process's first requests, one at a time (ms: medians over processes of each process's median, 90th percentile, slowest and sum):",
    "",
    "| requests | variant | median | p90 | slowest | sum |",
    "|---|---|---:|---:|---:|---:|",
    ...FIRSTS.flatMap((f) =>
      VARIANTS.map((v) => {
        const rs = firsts.filter((r) => r.label === f.label && r.variant === v.name);
        const q = (xs: number[], p: number) =>
          [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
        const m = (fn: (times: number[]) => number) => median(rs.map((r) => fn(r.times)));
        return `| ${f.label} | ${v.name} | ${m((t) => median(t)).toFixed(3)} | ${m((t) => q(t, 0.9)).toFixed(3)} | ${m((t) => Math.max(...t)).toFixed(2)} | ${m((t) => t.reduce((a, b) => a + b, 0)).toFixed(0)} |`;
      }),
    ),
    "",
    "Then wrk, slice after slice:",
    "",
    "| slice | variant | req/s | p50 ms | p99 ms | CPU µs/req | decisions > 0.2 ms | > 0.5 ms |",
    "|---|---|---:|---:|---:|---:|---:|---:|",
  ];
  for (const s of SLICES)
    for (const v of VARIANTS) {
      const rs = rows.filter((r) => r.label === s.label && r.variant === v.name);
      const m = (f: (r: SliceRow) => number) => median(rs.map(f));
      out.push(
        `| ${s.label} | ${v.name} | ${m((r) => r.rps).toFixed(0)} | ${m((r) => r.p50).toFixed(3)} | ${m((r) => r.p99).toFixed(2)} | ${m((r) => r.cpu).toFixed(0)} | ${m((r) => r.over02).toFixed(1)} % | ${m((r) => r.over05).toFixed(1)} % |`,
      );
    }
  console.log(out.join("\n"));
  await stopAll();
}

await main();
