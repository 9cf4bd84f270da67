/**
 * Bare Bun proxies side by side, one flag set against another: what the transport under the
 * upstream call costs (Bun's fetch vs the wire client, bare-bun.ts --wire), with everything
 * else as the floor proxy does. Same layout as run.ts: wrk, the stream client and the mock
 * upstream on core 0, the proxy under test on core 1 (taskset), CPU µs per request from
 * /proc, variants interleaved in each round (order rotated), medians over rounds.
 *
 *   flock /tmp/bench.lock bun bench/overhead/wire-go.ts
 * Knobs: WIRE_ROUNDS (3), WIRE_SECONDS (4), WIRE_CASES (c1,c32,body30k,sse32,sse32p),
 * WIRE_VARIANTS ("name=flags;..." default: fetch vs wire, read whole / relayed).
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bigBody, SMALL } from "./bodies.ts";
import { CLK_TCK, cpuTicks, firstJsonLine, killAllOnExit, type Proc, run, start, stopAll } from "./procs.ts";
import { type WrkJson, wrkErrors, wrkScript } from "./wrk-lua.ts";

const env = process.env;
const ROUNDS = Number(env["WIRE_ROUNDS"] ?? 3);
const SECONDS = Number(env["WIRE_SECONDS"] ?? 4);
const CASES = (env["WIRE_CASES"] ?? "c1,c32,body30k,sse32,sse32p").split(",");
const VARIANTS = (env["WIRE_VARIANTS"] ?? "fetch=--read-whole --relay;wire=--wire --read-whole --relay")
  .split(";")
  .map((v) => {
    const [name, flags = ""] = v.split("=");
    return { name: name!, flags: flags.split(" ").filter(Boolean) };
  });
const BUN = process.execPath;
const HERE = import.meta.dir;
const MAXREQ = { BUN_CONFIG_MAX_HTTP_REQUESTS: "65535" };
const log = (name: string) => join(tmpdir(), `wire-go-${process.pid}-${name}.log`);

const lua = (name: string, body: object, headers: Record<string, string> = {}) =>
  wrkScript(tmpdir(), `wire-go-${process.pid}-${name}`, body, headers);

const stream = { ...SMALL, stream: true, max_tokens: 20 };
const CASE_DEFS: Record<string, { conns: number; script: () => string; perStream?: boolean }> = {
  c1: { conns: 1, script: () => lua("small", SMALL) },
  c32: { conns: 32, script: () => lua("small", SMALL) },
  body30k: { conns: 32, script: () => lua("big", bigBody(30 * 1024)) },
  sse32: { conns: 32, script: () => lua("stream", stream, { "x-mock-chunks": "20" }) },
  sse32p: {
    conns: 32,
    script: () => lua("paced", stream, { "x-mock-chunks": "20", "x-mock-interval-ms": "5" }),
  },
};

async function wrk(url: string, script: string, conns: number, seconds: number) {
  const { stdout } = await run(
    "wrk",
    ["wrk", "-t1", `-c${conns}`, `-d${seconds}s`, "--timeout", "10s", "-s", script, url],
    { core: "0", log: log("wrk"), timeoutMs: (seconds + 30) * 1000 },
  );
  const line = stdout.split("\n").find((l) => l.startsWith("WRKJSON "));
  if (!line) throw new Error(`wrk failed: ${stdout.slice(-300)}`);
  const w = JSON.parse(line.slice(8)) as WrkJson;
  return { ...w, errors: wrkErrors(w) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

killAllOnExit();
try {
  const upstream = start("upstream", [BUN, join(HERE, "upstream.ts"), "--ports", "0,0,0,0"], {
    core: "0",
    stdout: "pipe",
    log: log("upstream"),
  });
  const ports = (await firstJsonLine<{ ports: number[] }>(upstream)).ports;
  const upstreams = ports.map((p) => `127.0.0.1:${p}`).join(",");
  const proxies: { name: string; proc: Proc; url: string }[] = [];
  for (const v of VARIANTS) {
    const proc = start(
      v.name,
      [BUN, join(HERE, "bare-bun.ts"), "--port", "0", "--upstreams", upstreams, ...v.flags],
      { core: "1", env: MAXREQ, stdout: "pipe", log: log(v.name) },
    );
    const { port } = await firstJsonLine<{ port: number }>(proc);
    proxies.push({ name: v.name, proc, url: `http://127.0.0.1:${port}/v1/chat/completions` });
  }
  const small = CASE_DEFS["c32"]!.script();
  for (const p of proxies) {
    await wrk(p.url, small, 32, 3);
    await wrk(p.url, CASE_DEFS["sse32"]!.script(), 8, 1);
  }
  const rows = new Map<string, { cpu: number[]; p50: number[]; errors: number }>();
  const ttfb = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    const order = proxies.map((_, i) => proxies[(i + round) % proxies.length]!);
    for (const id of CASES) {
      const c = CASE_DEFS[id]!;
      const script = c.script();
      for (const p of order) {
        const t0 = cpuTicks(p.proc.pid);
        const w = await wrk(p.url, script, c.conns, SECONDS);
        const us = ((cpuTicks(p.proc.pid) - t0) * 1e6) / CLK_TCK / Math.max(1, w.requests);
        const key = `${id}|${p.name}`;
        const row = rows.get(key) ?? { cpu: [], p50: [], errors: 0 };
        row.cpu.push(us);
        row.p50.push(w.p50 / 1000);
        row.errors += w.errors;
        rows.set(key, row);
        console.log(
          `r${round + 1} ${id.padEnd(8)} ${p.name.padEnd(10)} ${us.toFixed(0).padStart(5)} µs/req  p50 ${(w.p50 / 1000).toFixed(3)} ms  ${w.requests} req${w.errors ? `  ERRORS ${w.errors}` : ""}`,
        );
      }
    }
    for (const p of order) {
      const { stdout } = await run(
        "ttfb",
        [
          BUN,
          join(HERE, "stream-client.ts"),
          "ttfb",
          "--url",
          p.url,
          "--concurrency",
          "2",
          "--seconds",
          "2",
          "--chunks",
          "20",
          "--interval-ms",
          "2",
        ],
        { core: "0", env: MAXREQ, log: log("ttfb"), timeoutMs: 40_000 },
      );
      const s = JSON.parse(stdout.trim().split("\n").at(-1)!) as { ttfbP50: number };
      ttfb.set(p.name, [...(ttfb.get(p.name) ?? []), s.ttfbP50]);
      console.log(`r${round + 1} ttfb     ${p.name.padEnd(10)} p50 ${s.ttfbP50.toFixed(3)} ms`);
    }
  }
  console.log("\n| case | variant | CPU µs/req (median) | p50 ms | errors |\n|---|---|---:|---:|---:|");
  for (const [key, r] of rows) {
    const [id, name] = key.split("|");
    console.log(
      `| ${id} | ${name} | ${median(r.cpu).toFixed(0)} | ${median(r.p50).toFixed(3)} | ${r.errors} |`,
    );
  }
  for (const [name, xs] of ttfb) console.log(`| ttfb | ${name} | | ${median(xs).toFixed(3)} | |`);
} finally {
  await stopAll();
}
process.exit(0);
