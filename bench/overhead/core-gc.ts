/**
 * What the collector does for small JSON requests in process (issue 19, ninth pass; the
 * report eighteenth pass), from JSC's own log (`BUN_JSC_logGC=1`, one line per collection on
 * stderr, with the heap's size before and after it and its pause).
 *
 * - Plain run: one gateway (this checkout's, or BENCH_GATEWAY_ROOT's), 4 endpoints, default
 *   profile, metrics and the log line on (dropped), BENCH_CONC requests at a time (default 8),
 *   BENCH_N measured (default 100,000) between two marker lines on stderr; prints the process CPU
 *   µs a request on stdout. `BUN_JSC_logGC=1 bun bench/overhead/core-gc.ts 2>&1 | grep -c Eden`
 *   counts the eden collections (the ninth pass's figure).
 * - `--report [--wire]`: the gateway and a bare handler (read, decode and parse the body, call
 *   the pod, answer its bytes), each in a child process of its own under `BUN_JSC_logGC=1`, 32 at
 *   a time; per target the collections (eden / full), the bytes allocated a request (the heap's
 *   growth from each collection's end to the next one's start, summed over the measured
 *   requests) and the collector's pause a request. With `--wire` the pod calls go over the Bun
 *   wire client to a real mock pod (upstream.ts, 2 ports), as the Bun entry runs them; else the
 *   fetch seam answers at once.
 *
 *   bun bench/overhead/core-gc.ts --report [--wire]
 */
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import {
  completionAnswer,
  type FetchApp,
  gatewayAt,
  mockPodPorts,
  perRequest,
  postChat,
} from "../lib/in-process.ts";

const N = Number(process.env["BENCH_N"] ?? 100_000);
const CONC = Number(process.env["BENCH_CONC"] ?? 8);
const root = process.env["BENCH_GATEWAY_ROOT"] ?? resolve(import.meta.dirname ?? ".", "../..");
const START = "=== measured ===";
const END = "=== end ===";

if (process.argv.includes("--report")) report();
else await measured(process.env["CORE_GC_TARGET"] === "bare", process.env["CORE_GC_WIRE"] === "1");

function report(): never {
  const wire = process.argv.includes("--wire");
  const rows = ["gateway", "bare"].map((target) => {
    const child = spawnSync(process.execPath, [import.meta.path], {
      env: {
        ...process.env,
        BUN_JSC_logGC: "1",
        CORE_GC_TARGET: target,
        CORE_GC_WIRE: wire ? "1" : "0",
        BENCH_CONC: process.env["BENCH_CONC"] ?? "32",
      },
      encoding: "utf8",
      maxBuffer: 1 << 28,
    });
    if (child.status !== 0) throw new Error(`${target}: exit ${child.status}\n${child.stderr.slice(-2000)}`);
    return { target, cpu: child.stdout.trim(), ...collections(child.stderr) };
  });
  console.log(
    [
      `Collections over ${N} small JSON requests in process, ${process.env["BENCH_CONC"] ?? 32} at a time (Bun ${Bun.version}; ${wire ? "wire client, real mock pod" : "fetch seam answers at once"})`,
      "",
      "| target | eden / full collections | bytes allocated a request | collector pause µs a request | CPU |",
      "|---|---:|---:|---:|---|",
      ...rows.map(
        (r) =>
          `| ${r.target} | ${r.eden} / ${r.full} | ${r.bytesPerRequest.toFixed(0)} | ${r.pausePerRequest.toFixed(2)} | ${r.cpu} |`,
      ),
    ].join("\n"),
  );
  process.exit(0);
}

/** The measured part of a child's JSC log: collections, bytes allocated between them, pauses. */
function collections(log: string) {
  const part = log.slice(log.indexOf(START), log.indexOf(END));
  // "[GC<..>: START M 40344kb => EdenCollection, ... => 22874kb, p=3.206475ms ..., cycle ... END]"
  const re = /START M (\d+)kb => (Eden|Full)Collection.*?=> (\d+)kb, p=([\d.]+)ms.*END\]/g;
  let eden = 0;
  let full = 0;
  let allocatedKb = 0;
  let pauseMs = 0;
  let lastAfter: number | undefined;
  for (const m of part.matchAll(re)) {
    if (m[2] === "Eden") eden++;
    else full++;
    if (lastAfter !== undefined) allocatedKb += Number(m[1]) - lastAfter;
    lastAfter = Number(m[3]);
    pauseMs += Number(m[4]);
  }
  return { eden, full, bytesPerRequest: (allocatedKb * 1024) / N, pausePerRequest: (pauseMs * 1000) / N };
}

async function measured(bare: boolean, wire: boolean): Promise<never> {
  const ports = wire ? await mockPodPorts() : [];
  const upstream = wire
    ? (
        (await import(resolve(root, "src/runtime/bun-wire.ts"))) as {
          bunUpstreamFetch(): (url: string, init: RequestInit) => Promise<Response>;
        }
      ).bunUpstreamFetch()
    : undefined;
  const app: FetchApp = bare
    ? bareHandler(upstream, `http://127.0.0.1:${ports[0]}/v1/chat/completions`)
    : upstream
      ? await gatewayAt(root, {
          addresses: ports.map((p) => `127.0.0.1:${p}`),
          fetch: upstream as never,
          directStreams: true, // as the Bun entry relays streams
        })
      : await gatewayAt(root);
  const body = '{"model":"m","messages":[{"role":"user","content":"Hello"}],"max_tokens":16}';
  await perRequest(() => postChat(app, body), 20_000, CONC);
  Bun.gc(true);
  console.error(START);
  const us = await perRequest(() => postChat(app, body), N, CONC);
  console.error(END);
  console.log(`${us.toFixed(2)} µs CPU a request`);
  process.exit(0);
}

/** The floor: read, decode and parse the body, call the pod (or the seam's answer), answer its bytes. */
function bareHandler(
  upstream: ((url: string, init: RequestInit) => Promise<Response>) | undefined,
  url: string,
): FetchApp {
  return {
    async fetch(req) {
      const bytes = await req.arrayBuffer();
      JSON.parse(new TextDecoder().decode(bytes));
      const res = upstream
        ? await upstream(url, { method: "POST", headers: req.headers, body: bytes })
        : completionAnswer();
      return new Response(await res.arrayBuffer(), { status: res.status, headers: res.headers });
    },
  };
}
