/**
 * Failure-handling figures: what clients see when pods die, hang or fail, when clients
 * abort in bulk, when the gateway gets SIGTERM with streams running, and when its config
 * file is read half-written.
 *
 *   BUN_CONFIG_MAX_HTTP_REQUESTS=65535 bun run bench/failures.ts
 *
 * Real processes on loopback only: every pod is its own process (so one can be killed
 * with SIGKILL or frozen with SIGSTOP), and so is the gateway (SIGTERM). Every scenario
 * is bounded in requests and in wall time, and every child is killed at the end.
 *
 * BENCH_BEFORE=<dir of an older checkout, with node_modules> runs the same scenarios
 * against that gateway too (the "before" column). BENCH_OUT: results file ("-" = none).
 * BENCH_ONLY=<text>: run only the scenarios whose name contains it.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { partialConfigWrites } from "./lib/partial-config.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BEFORE = process.env["BENCH_BEFORE"];
// A BENCH_ONLY run prints its rows only, unless BENCH_OUT names a file.
const OUT =
  process.env["BENCH_OUT"] ?? (process.env["BENCH_ONLY"] ? "-" : join(ROOT, "bench/results/failures.md"));
const MODEL = "m";
const TMP = mkdtempSync(join(tmpdir(), "gw-failures-"));

// A pod that answers /health, /metrics and /v1/models well, and every completion with 500.
if (process.argv[2] === "--pod-500") {
  let completions = 0;
  const metrics = `vllm:num_requests_running{model_name="${MODEL}"} 0\nvllm:num_requests_waiting{model_name="${MODEL}"} 0\nvllm:kv_cache_usage_perc{model_name="${MODEL}"} 0\n`;
  Bun.serve({
    port: Number(process.argv[3]),
    hostname: "127.0.0.1",
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/health") return new Response("ok");
      if (path === "/metrics") return new Response(metrics);
      if (path === "/v1/models")
        return Response.json({ object: "list", data: [{ id: MODEL, object: "model" }] });
      if (path === "/count") return Response.json({ completions });
      completions++;
      return Response.json({ error: { message: "internal error" } }, { status: 500 });
    },
  });
  await new Promise(() => {});
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const children = new Set<ReturnType<typeof Bun.spawn>>();

function spawn(cmd: string[], log: string) {
  const child = Bun.spawn(cmd, {
    cwd: ROOT,
    env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: "65535" },
    stdout: Bun.file(join(TMP, `${log}.out`)),
    stderr: Bun.file(join(TMP, `${log}.err`)),
  });
  children.add(child);
  return child;
}

function stopAll() {
  for (const c of children) {
    try {
      process.kill(c.pid, "SIGCONT");
      c.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  children.clear();
}
process.on("SIGINT", () => {
  stopAll();
  process.exit(130);
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitUp(url: string, timeoutMs = 15_000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await sleep(50);
  }
  throw new Error(`${url} did not come up`);
}

interface PodOpts {
  interTokenMs?: number;
  timeScale?: number;
  maxNumSeqs?: number;
}

async function startPod(name: string, o: PodOpts = {}) {
  const port = await freePort();
  const args = ["--port", String(port), "--host", "127.0.0.1", "--model", MODEL, "--jitter", "0"];
  args.push("--inter-token-ms", String(o.interTokenMs ?? 10), "--time-scale", String(o.timeScale ?? 1));
  args.push("--max-num-seqs", String(o.maxNumSeqs ?? 64), "--prefill-overhead-ms", "5");
  const proc = spawn([process.execPath, "run", "src/simulator/cli.ts", ...args], name);
  await waitUp(`http://127.0.0.1:${port}/health`);
  return { name, port, proc, address: `127.0.0.1:${port}` };
}

async function start500Pod(name: string) {
  const port = await freePort();
  const proc = spawn([process.execPath, "run", "bench/failures.ts", "--pod-500", String(port)], name);
  await waitUp(`http://127.0.0.1:${port}/health`);
  return { name, port, proc, address: `127.0.0.1:${port}` };
}

type Pod = Awaited<ReturnType<typeof startPod>>;

/** The gateway from `root` (this checkout, or BENCH_BEFORE) in front of `pods`. */
async function startGateway(root: string, pods: Pod[], extra: Record<string, unknown> = {}) {
  const port = await freePort();
  const config = {
    apiVersion: "gateway.inference.dev/v1alpha1",
    kind: "GatewayConfig",
    logLevel: "warn",
    endpoints: pods.map((p) => ({ name: p.name, address: p.address, models: [MODEL] })),
    ...extra,
  };
  const file = join(TMP, `gw-${port}.yaml`);
  writeFileSync(file, JSON.stringify(config));
  return launchGateway(root, file, port);
}

/** The gateway from `root` on a config file already written (and watched from then on). */
async function launchGateway(root: string, file: string, port: number) {
  const args = ["--config", file, "--port", String(port), "--host", "127.0.0.1"];
  const proc = spawn([process.execPath, "run", join(root, "src/runtime/bun.ts"), ...args], `gateway-${port}`);
  await waitUp(`http://127.0.0.1:${port}/healthz`);
  return { url: `http://127.0.0.1:${port}`, proc };
}

type Outcome = "ok" | "sse-error" | "reset" | `http ${number}` | "hung";

/** One request; a stream reads `chunks` chunks then aborts when given. Never longer than `capMs`. */
async function call(
  url: string,
  o: {
    stream: boolean;
    maxTokens: number;
    abortAfterChunks?: number;
    capMs?: number;
    onFirstByte?: () => void;
  },
): Promise<{ outcome: Outcome; ms: number }> {
  const t0 = performance.now();
  const ac = new AbortController();
  const cap = setTimeout(() => ac.abort(new Error("cap")), o.capMs ?? 60_000);
  const done = (outcome: Outcome) => ({ outcome, ms: performance.now() - t0 });
  try {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: MODEL,
        stream: o.stream,
        max_tokens: o.maxTokens,
        messages: [{ role: "user", content: "failure bench" }],
      }),
      signal: ac.signal,
    });
    if (res.status !== 200) {
      await res.text();
      return done(`http ${res.status}`);
    }
    const reader = res.body!.getReader();
    let text = "";
    for (let n = 0; ; n++) {
      const r = await reader.read();
      if (n === 0) o.onFirstByte?.();
      if (r.done) break;
      text += new TextDecoder().decode(r.value);
      if (o.abortAfterChunks !== undefined && n + 1 >= o.abortAfterChunks) {
        ac.abort();
        return done("ok");
      }
    }
    return done(text.includes('"error"') ? "sse-error" : "ok");
  } catch {
    return done(ac.signal.aborted && ac.signal.reason instanceof Error ? "hung" : "reset");
  } finally {
    clearTimeout(cap);
  }
}

function tally(results: { outcome: Outcome }[]) {
  const m = new Map<string, number>();
  for (const r of results) m.set(r.outcome, (m.get(r.outcome) ?? 0) + 1);
  return [...m].map(([k, v]) => `${k} ${v}`).join(", ");
}

/** `clients` closed loops for `ms`; `during` runs meanwhile (the fault). */
async function closedLoop(
  clients: number,
  ms: number,
  one: (i: number) => Promise<{ outcome: Outcome; ms: number; stream: boolean }>,
  during: () => Promise<void>,
) {
  const results: { outcome: Outcome; ms: number; stream: boolean }[] = [];
  const end = performance.now() + ms;
  let i = 0;
  const loops = Array.from({ length: clients }, async () => {
    while (performance.now() < end) results.push(await one(i++));
  });
  await Promise.all([...loops, during()]);
  return results;
}

const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)} %` : "-");
const p = (xs: number[], q: number) =>
  xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? 0;

/** Each scenario returns the cell text for one gateway. */
async function killedPod(root: string, isNew: boolean) {
  const pods = [await startPod("p0"), await startPod("p1"), await startPod("p2")];
  const gw = await startGateway(root, pods, isNew ? {} : {});
  const results = await closedLoop(
    24,
    6000,
    (i) => call(gw.url, { stream: i % 2 === 0, maxTokens: 50 }).then((r) => ({ ...r, stream: i % 2 === 0 })),
    async () => {
      await sleep(2000);
      pods[0]!.proc.kill("SIGKILL");
    },
  );
  stopAll();
  const json = results.filter((r) => !r.stream);
  const streams = results.filter((r) => r.stream);
  const jsonFailed = json.filter((r) => r.outcome !== "ok").length;
  return `non-streamed: ${jsonFailed} of ${json.length} failed (${pct(jsonFailed, json.length)}); streams: ${tally(streams)}`;
}

async function hungPod(root: string, isNew: boolean) {
  const pods = [await startPod("p0"), await startPod("p1")];
  const upstream = isNew ? { idleTimeoutMs: 3000, firstByteTimeoutMs: 2000 } : { idleTimeoutMs: 3000 };
  const gw = await startGateway(root, pods, { upstream });
  const results = await closedLoop(
    8,
    8000,
    () => call(gw.url, { stream: true, maxTokens: 30, capMs: 20_000 }).then((r) => ({ ...r, stream: true })),
    async () => {
      await sleep(1500);
      pods[0]!.proc.kill("SIGSTOP");
    },
  );
  stopAll();
  const lat = results.map((r) => r.ms);
  return `${results.length} streams: ${tally(results)}; p50 ${p(lat, 0.5).toFixed(0)} ms, max ${Math.max(...lat).toFixed(0)} ms (client cap 20 s)`;
}

async function failingPod(root: string) {
  const pods = [await startPod("p0", { timeScale: 0.05 }), await startPod("p1", { timeScale: 0.05 })];
  pods.push(await start500Pod("p500"));
  const gw = await startGateway(root, pods);
  // 20 requests a second for 15 s: long enough for ejections to end and the pod to come back.
  const results = await closedLoop(
    4,
    15_000,
    async () => {
      const [r] = await Promise.all([call(gw.url, { stream: false, maxTokens: 8 }), sleep(200)]);
      return { ...r, stream: false };
    },
    async () => {},
  );
  const { completions } = await (await fetch(`http://${pods[2]!.address}/count`)).json();
  stopAll();
  const bad = results.filter((r) => r.outcome === "http 500").length;
  return `${bad} of ${results.length} client requests got a 500 (${pct(bad, results.length)}); ${completions} reached the failing pod`;
}

async function aborts(root: string) {
  const pods = [await startPod("p0", { interTokenMs: 5 }), await startPod("p1", { interTokenMs: 5 })];
  const gw = await startGateway(root, pods);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next++ < 2000)
        await call(gw.url, { stream: true, maxTokens: 200, abortAfterChunks: 1 + (next % 3) });
    }),
  );
  const hungUp = performance.now();
  const busy = async () => {
    let n = 0;
    for (const pod of pods) {
      const text = await (await fetch(`http://${pod.address}/metrics`)).text();
      for (const m of text.matchAll(/^vllm:num_requests_(?:running|waiting)\{[^}]*\} (\S+)$/gm))
        n += Number(m[1]);
    }
    const gwText = await (await fetch(`${gw.url}/metrics`)).text();
    for (const m of gwText.matchAll(/^inference_objective_running_requests\{[^}]*\} (\S+)$/gm))
      n += Number(m[1]);
    return n;
  };
  const end = Date.now() + 10_000;
  let left = await busy();
  while (left > 0 && Date.now() < end) {
    await sleep(20);
    left = await busy();
  }
  const idle = performance.now();
  stopAll();
  return `2,000 streams aborted after 1-3 chunks in ${((hungUp - t0) / 1000).toFixed(1)} s; ${left} requests left running (gateway + pods); all idle ${(idle - hungUp).toFixed(0)} ms after the last abort`;
}

async function sigterm(root: string) {
  const pods = [await startPod("p0", { interTokenMs: 20 }), await startPod("p1", { interTokenMs: 20 })];
  const gw = await startGateway(root, pods, { shutdownGraceMs: 1000 });
  let started = 0;
  const calls = [
    ...Array.from({ length: 10 }, () =>
      call(gw.url, { stream: true, maxTokens: 2000, onFirstByte: () => started++ }),
    ),
    ...Array.from({ length: 6 }, () => call(gw.url, { stream: false, maxTokens: 2000 })),
  ];
  const until = Date.now() + 5000;
  while (started < 10 && Date.now() < until) await sleep(20);
  await sleep(200);
  const t0 = performance.now();
  gw.proc.kill("SIGTERM");
  const results = await Promise.all(calls);
  await gw.proc.exited;
  const exitMs = performance.now() - t0;
  stopAll();
  return `10 streams: ${tally(results.slice(0, 10))}; 6 non-streamed: ${tally(results.slice(10))}; exit ${exitMs.toFixed(0)} ms after SIGTERM (grace 1 s)`;
}

async function partialWrites(root: string) {
  const pods = [await startPod("p0"), await startPod("p1")];
  const port = await freePort();
  const file = join(TMP, `partial-${port}.yaml`);
  const cell = await partialConfigWrites({
    file,
    pods,
    model: MODEL,
    launch: async () => (await launchGateway(root, file, port)).url,
  });
  stopAll();
  return cell;
}

const SCENARIOS: { name: string; run: (root: string, isNew: boolean) => Promise<string> }[] = [
  { name: "Pod killed (SIGKILL) under load: 3 pods, 24 clients, half streams, 6 s", run: killedPod },
  {
    name: "Hung pod (SIGSTOP) of 2: 8 stream clients, 8 s (idleTimeoutMs 3 s; after: firstByteTimeoutMs 2 s)",
    run: hungPod,
  },
  { name: "Pod answering 500 with a passing /health, of 3: 20 requests/s for 15 s", run: failingPod },
  { name: "2,000 client aborts mid-stream, 50 at a time, 2 pods", run: aborts },
  { name: "SIGTERM with 10 streams and 6 non-streamed requests running (shutdownGraceMs 1 s)", run: sigterm },
  {
    name: "Partial config writes: auth on, a writer pauses before the `auth:` block, 2 keyless clients probe",
    run: partialWrites,
  },
];
// BENCH_ONLY=<text>: only the scenarios whose name contains it.
const ONLY = process.env["BENCH_ONLY"];
const CHOSEN = ONLY ? SCENARIOS.filter((s) => s.name.includes(ONLY)) : SCENARIOS;

const rows: string[] = [];
try {
  for (const s of CHOSEN) {
    const after = await s.run(ROOT, true);
    const before = BEFORE ? await s.run(BEFORE, false) : undefined;
    rows.push(`| ${s.name} | ${before ?? "-"} | ${after} |`);
    console.log(rows.at(-1));
  }
} finally {
  stopAll();
}
const table = ["| Failure | Before | Now |", "|---|---|---|", ...rows].join("\n");
const notes = `Measured ${new Date().toISOString().slice(0, 10)} with \`bun run bench/failures.ts\` (Bun ${Bun.version}, ${navigator.hardwareConcurrency} cores), pods and gateway each in their own process on loopback.${BEFORE ? " Before: the gateway as of commit c056441 (same scenarios, same pods)." : ""}
Outcomes: ok = complete answer; sse-error = the stream ended with an SSE error event the client can read; http N = an answer with status N; reset = a connection error (no answer); hung = no answer within the client's cap.`;
const md = `# Failure handling\n\n${notes}\n\n${table}\n`;
console.log(`\n${md}`);
if (OUT !== "-") writeFileSync(OUT, md);
process.exit(0);
