/**
 * What the gateway's Hono chain costs by itself (issue 19: "measure the cost of the chain
 * itself"). In-process, no network: `app.fetch(new Request(...))` in a loop, the same
 * POST as the overhead benchmark's small JSON case, answered with a prebuilt body.
 *
 * - chain-11: `request-id` as app.use plus 11 route middlewares (scope, authenticate,
 *   parse, route, rewrite, authorize, candidates, accepted, admit, schedule, forward),
 *   each an async function that sets one context variable and awaits next(), as the
 *   stages do;
 * - composed: one route handler that calls 12 plain functions in order with one
 *   per-request object (the shape src/stages/pipeline.ts now has: one handler per inference
 *   route, the stages plain steps over an Exchange);
 * - bare: one route handler that answers at once (Hono's routing and Response alone);
 * - gateway: the real app (`createGateway` on a one-pool config with two endpoints, the default
 *   scheduling profile, metrics and the request log on, written to a sink that drops it), its
 *   fetch seam answering every pod call at once with a prebuilt chat completion: the whole
 *   pipeline's in-process cost, so the figure is the gateway's, not a model of it. With
 *   BENCH_GATEWAY_ROOT=<another checkout> that tree's gateway runs beside it as gateway-base;
 *   with BENCH_SILENT=1 the same gateway at logLevel silent, as gateway-silent (what the
 *   log line costs in the pipeline; with BENCH_LOG=stdout, through the production writer).
 *   With BENCH_FULL_INDEX=<prompts>, every app is measured again after the gateway (and
 *   gateway-base) had its prefix index filled through its own fetch with that many new 30 KiB
 *   prompts, as the overhead run's body30kv case fills it (BENCH_ENDPOINTS pods, default 2; the
 *   run has 4): what a full index costs a small request, and the rest of the process.
 *
 * Run: `bun bench/overhead/hono-chain.ts` and `node --import tsx bench/overhead/hono-chain.ts`.
 * Prints µs per request (median of BENCH_ROUNDS rounds, default 5, of BENCH_N requests, default
 * 100,000), wall time of one request at a time unless BENCH_CONCURRENCY (requests at a time) and
 * BENCH_CPU=1 (process CPU, the collector's threads included) say otherwise; with a base, the
 * median paired difference too. Every answer's body is read.
 */
import { resolve } from "node:path";
import { Hono } from "hono";
import { alternatingRounds, type FetchApp, gatewayAt, perRequest, postChat } from "../lib/in-process.ts";
import { bigBody } from "./bodies.ts";

const N = Number(process.env["BENCH_N"] ?? 100_000);
const TO_STDOUT = process.env["BENCH_LOG"] === "stdout";
const print = TO_STDOUT ? console.error : console.log;
const STAGES = 11;
const body = new TextEncoder().encode('{"id":"x","object":"chat.completion","choices":[]}');
const reqBody = '{"model":"m","messages":[{"role":"user","content":"Hello"}],"max_tokens":16}';
const answer = () => new Response(body, { headers: { "content-type": "application/json" } });

type Vars = Record<`v${number}`, number> & { requestId: string };

function chainApp(): Hono<{ Variables: Vars }> {
  const app = new Hono<{ Variables: Vars }>();
  app.use("*", async (c, next) => {
    c.set("requestId", c.req.raw.headers.get("x-request-id") ?? "generated");
    await next();
    c.header("x-request-id", c.get("requestId"));
  });
  const stages = Array.from(
    { length: STAGES },
    (_, i) => async (c: { set(k: `v${number}`, v: number): void }, next: () => Promise<void>) => {
      c.set(`v${i}`, i);
      await next();
    },
  );
  // Typed loosely: Hono's overloads stop at ten handlers.
  (app as unknown as { post(path: string, ...h: unknown[]): void }).post(
    "/v1/chat/completions",
    ...stages,
    () => answer(),
  );
  return app;
}

function composedApp(): Hono {
  const app = new Hono();
  const steps = Array.from({ length: STAGES + 1 }, (_, i) => (r: Record<string, unknown>) => {
    r[`v${i}`] = i;
  });
  app.post("/v1/chat/completions", async (c) => {
    const r: Record<string, unknown> = { requestId: c.req.raw.headers.get("x-request-id") ?? "generated" };
    for (const step of steps) step(r);
    const res = answer();
    res.headers.set("x-request-id", r["requestId"] as string);
    return res;
  });
  return app;
}

function bareApp(): Hono {
  const app = new Hono();
  app.post("/v1/chat/completions", () => answer());
  return app;
}

/** The real gateway of the checkout at `root`, in process, its pods answering at once. */
function gatewayApp(root: string, level: "info" | "silent" = "info"): Promise<FetchApp> {
  // The log line is built and serialised as in production, then dropped; with
  // BENCH_LOG=stdout it is written by the logger's own default writer, as in production
  // (run with stdout to /dev/null: the results go to stderr then).
  return gatewayAt(root, { endpoints: ENDPOINTS, level, toStdout: TO_STDOUT });
}

const ENDPOINTS = Number(process.env["BENCH_ENDPOINTS"] ?? 2);
const FULL_INDEX = Number(process.env["BENCH_FULL_INDEX"] ?? 0);
const SAME = process.env["BENCH_FILL_SAME"] === "1";

/**
 * Sends `prompts` new 30 KiB prompts (each starting with a token of its own, as body30kv's) through
 * the gateway, 8 at a time: its prefix index records each on the endpoint picked.
 */
async function fill(
  app: { fetch(r: Request): Response | Promise<Response> },
  prompts: number,
): Promise<void> {
  const big = JSON.stringify(bigBody(30 * 1024));
  const at = big.indexOf('"content":"') + '"content":"'.length;
  let n = 0;
  const one = async () => {
    while (n < prompts) {
      // BENCH_FILL_SAME=1 (the control): the same 30 KiB prompt every time, so the same work
      // runs but the index keeps one prompt.
      const b = `${big.slice(0, at)}fill-${SAME ? 0 : n} ${big.slice(at)}`;
      n++;
      const res = await app.fetch(
        new Request("http://gw/v1/chat/completions", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: b,
        }),
      );
      if (res.status !== 200) throw new Error(`fill: status ${res.status}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: 8 }, one));
}

/** BENCH_CONCURRENCY requests at a time (default 1); BENCH_CPU=1 reports process CPU instead of wall time. */
const CONCURRENCY = Number(process.env["BENCH_CONCURRENCY"] ?? 1);
const CPU = process.env["BENCH_CPU"] === "1";

function run(app: FetchApp): Promise<number> {
  return perRequest(() => postChat(app, reqBody), N, CONCURRENCY, !CPU);
}

/**
 * BENCH_PAIR=1: what a full prefix index costs the whole process, paired against machine
 * noise. Two processes of this script, each with the gateway alone, one filled with
 * BENCH_FULL_INDEX new 30 KiB prompts ("full") and one with the same number of one repeated
 * prompt ("same": the same work, an index of one prompt), then measured in turns, one round
 * each at a time, BENCH_ROUNDS times (who goes first alternates): both see the same moments
 * of a shared machine. BENCH_GATEWAY_ROOT: the second process is that tree's gateway, filled
 * with new prompts too (before → after); BENCH_PAIR_ROOT: the first process's tree (default
 * this one). BENCH_GC=1 (Node) prints each round with its collections and page faults;
 * BENCH_PROFILE_DIR (Node) writes a CPU profile of each process's measured rounds;
 * BENCH_PAIR_WAIT_S pauses before the rounds, printing the pids (to attach perf).
 * Run: `BENCH_PAIR=1 BENCH_FULL_INDEX=4000 BENCH_ENDPOINTS=4 BENCH_N=4000 BENCH_ROUNDS=24
 * BENCH_CPU=1 node --import tsx bench/overhead/hono-chain.ts` (docs/scheduling.md §5, eighth pass).
 */
if (process.env["BENCH_PAIR"] === "1") {
  const { spawn } = await import("node:child_process");
  const { createInterface } = await import("node:readline");
  const pairBase = process.env["BENCH_GATEWAY_ROOT"] ?? "";
  const child = (same: boolean) => {
    const p = spawn(process.execPath, [...process.execArgv, process.argv[1]!], {
      env: {
        ...process.env,
        BENCH_PAIR: "",
        BENCH_PAIR_CHILD: "1",
        // With BENCH_GATEWAY_ROOT the second process is that tree's gateway, filled the same way
        // (before -> after of a change to what a full index costs); else this tree's, one prompt.
        BENCH_FILL_SAME: same && !pairBase ? "1" : "0",
        BENCH_PAIR_ROOT: same && pairBase ? pairBase : (process.env["BENCH_PAIR_ROOT"] ?? ""),
      },
      stdio: ["pipe", "pipe", "inherit"],
    });
    const lines = createInterface({ input: p.stdout! })[Symbol.asyncIterator]();
    const next = async () => String((await lines.next()).value);
    const ask = async () => {
      p.stdin!.write("go\n");
      const [us, ...gc] = (await next()).split(" ");
      if (process.env["BENCH_GC"] === "1")
        print(
          `  ${same ? "same" : "full"}: ${Number(us).toFixed(1)} µs, scavenges ${gc[0]} (${gc[1]} ms), others ${gc[2]} (${gc[3]} ms), ${Number(gc[4]).toFixed(2)} page faults a request`,
        );
      return Number(us);
    };
    return { p, next, ask };
  };
  const full = child(false);
  const same = child(true);
  print(`full: ${await full.next()}`);
  print(`${pairBase ? "base" : "same"}: ${await same.next()}`);
  // BENCH_PAIR_WAIT_S: a pause before the rounds (to attach a profiler to the two pids printed).
  const wait = Number(process.env["BENCH_PAIR_WAIT_S"] ?? 0);
  if (wait > 0) {
    print(`pids: full ${full.p.pid}, ${pairBase ? "base" : "same"} ${same.p.pid}`);
    await new Promise((r) => setTimeout(r, wait * 1000));
  }
  const fulls: number[] = [];
  const sames: number[] = [];
  for (let r = 0; r < Number(process.env["BENCH_ROUNDS"] ?? 5); r++) {
    // Alternate who goes first.
    if (r % 2 === 0) {
      fulls.push(await full.ask());
      sames.push(await same.ask());
    } else {
      sames.push(await same.ask());
      fulls.push(await full.ask());
    }
  }
  full.p.stdin!.end();
  same.p.stdin!.end();
  await Promise.all([full.p, same.p].map((p) => new Promise((r) => p.on("exit", r))));
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const diffs = fulls.map((f, i) => f - sames[i]!);
  print(
    `${typeof Bun !== "undefined" ? `Bun ${Bun.version}` : `Node ${process.version}`}, ${N} requests a round, ${CONCURRENCY} at a time, ${CPU ? "CPU" : "wall"} µs per request: full ${med(fulls).toFixed(2)}, same ${med(sames).toFixed(2)}, full − ${pairBase ? "base (full)" : "same"} median of paired rounds ${med(diffs).toFixed(2)} (higher in ${diffs.filter((d) => d > 0).length} of ${diffs.length}): ${diffs.map((d) => d.toFixed(1)).join(" ")}`,
  );
  process.exit(0);
}
if (process.env["BENCH_PAIR_CHILD"] === "1") {
  const { createInterface } = await import("node:readline");
  const gw = await gatewayApp(process.env["BENCH_PAIR_ROOT"] || resolve(import.meta.dirname ?? ".", "../.."));
  await fill(gw, FULL_INDEX);
  // BENCH_BALLAST=<n>x<bytes> (the "same" process only): n Float64Arrays of that size kept alive, the shape of a full index's key-table shards without the index.
  const ballast = SAME ? (process.env["BENCH_BALLAST"] ?? "") : "";
  const kept: Float64Array[] = [];
  if (ballast) {
    const [n, bytes] = ballast.split("x").map(Number);
    for (let i = 0; i < n!; i++) kept.push(new Float64Array(bytes! / 8));
  }
  (globalThis as { kept?: unknown }).kept = kept;
  await run(gw); // warm-up
  const m = process.memoryUsage();
  console.log(
    `filled (${SAME ? "one prompt" : "new prompts"}): heapUsed ${(m.heapUsed / 2 ** 20).toFixed(0)} MiB, arrayBuffers ${(m.arrayBuffers / 2 ** 20).toFixed(0)} MiB, rss ${(m.rss / 2 ** 20).toFixed(0)} MiB`,
  );
  // With BENCH_GC=1 (Node) each answer adds the round's collections: "µs scavenges ms marks ms".
  const gc = { s: 0, sms: 0, m: 0, mms: 0 };
  if (process.env["BENCH_GC"] === "1") {
    const { PerformanceObserver, constants } = await import("node:perf_hooks");
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const minor =
          (e as unknown as { detail: { kind: number } }).detail.kind === constants.NODE_PERFORMANCE_GC_MINOR;
        if (minor) {
          gc.s++;
          gc.sms += e.duration;
        } else {
          gc.m++;
          gc.mms += e.duration;
        }
      }
    }).observe({ entryTypes: ["gc"] });
  }
  // BENCH_PROFILE_DIR (Node): a CPU profile of the measured rounds only (not the fill), written when the parent is done.
  const profileDir = process.env["BENCH_PROFILE_DIR"];
  let stopProfile = async () => {};
  if (profileDir && typeof Bun === "undefined") {
    const { Session } = await import("node:inspector/promises");
    const { writeFileSync } = await import("node:fs");
    const session = new Session();
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.start");
    stopProfile = async () => {
      const { profile } = await session.post("Profiler.stop");
      writeFileSync(
        resolve(profileDir, `${SAME ? "same" : process.env["BENCH_PAIR_ROOT"] ? "base" : "full"}.cpuprofile`),
        JSON.stringify(profile),
      );
    };
  }
  process.stdin.on("end", () => void stopProfile().then(() => process.exit(0)));
  for await (const _ of createInterface({ input: process.stdin })) {
    const f0 = process.resourceUsage().minorPageFault;
    const us = await run(gw);
    const faults = (process.resourceUsage().minorPageFault - f0) / N;
    await new Promise((r) => setTimeout(r, 5));
    console.log(`${us} ${gc.s} ${gc.sms.toFixed(1)} ${gc.m} ${gc.mms.toFixed(1)} ${faults}`);
    Object.assign(gc, { s: 0, sms: 0, m: 0, mms: 0 });
  }
  process.exit(0);
}

const apps: Record<string, { fetch(r: Request): Response | Promise<Response> }> = {
  bare: bareApp(),
  composed: composedApp(),
  "chain-11": chainApp(),
  gateway: await gatewayApp(resolve(import.meta.dirname ?? ".", "../..")),
};
// BENCH_SILENT=1: the same gateway with logLevel silent beside it (what the log line costs).
if (process.env["BENCH_SILENT"] === "1")
  apps["gateway-silent"] = await gatewayApp(resolve(import.meta.dirname ?? ".", "../.."), "silent");
const baseRoot = process.env["BENCH_GATEWAY_ROOT"];
if (baseRoot) apps["gateway-base"] = await gatewayApp(resolve(baseRoot));
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 5);

/** ROUNDS alternating rounds of every app (bench/lib/in-process.ts). */
function measure(): Promise<Record<string, number[]>> {
  return alternatingRounds(apps, ROUNDS, run);
}

// BENCH_GC=1 (Node): the collections during each phase's rounds, by kind (perf_hooks "gc" entries).
const gcKinds = new Map<string, { n: number; ms: number }>();
if (process.env["BENCH_GC"] === "1") {
  const { PerformanceObserver, constants } = await import("node:perf_hooks");
  const names: Record<number, string> = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: "scavenge",
    [constants.NODE_PERFORMANCE_GC_MAJOR]: "mark-compact",
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weak-callbacks",
  };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = names[(e as unknown as { detail: { kind: number } }).detail.kind] ?? "other";
      const k = gcKinds.get(kind) ?? { n: 0, ms: 0 };
      k.n++;
      k.ms += e.duration;
      gcKinds.set(kind, k);
    }
  }).observe({ entryTypes: ["gc"] });
}
const gcReport = (phase: string) => {
  if (gcKinds.size === 0) return;
  print(
    `  gc during ${phase}: ${[...gcKinds].map(([k, v]) => `${k} ${v.n} (${v.ms.toFixed(0)} ms)`).join(", ")}`,
  );
  gcKinds.clear();
};

const results = await measure();
await new Promise((r) => setTimeout(r, 10)); // the observer's entries are delivered in a task
gcReport("the rounds");
// BENCH_FULL_INDEX: the same apps again in the same process once the gateways' indexes are
// full (the process's heap then holds them, as a production gateway's does: what it costs
// the other apps shows too).
let full: Record<string, number[]> | undefined;
if (FULL_INDEX > 0) {
  const m0 = process.memoryUsage();
  await fill(apps["gateway"]!, FULL_INDEX);
  if (baseRoot) await fill(apps["gateway-base"]!, FULL_INDEX);
  const m1 = process.memoryUsage();
  const mib = (b: number) => (b / 2 ** 20).toFixed(0);
  print(
    `filled: ${FULL_INDEX} new 30 KiB prompts per gateway over ${ENDPOINTS} endpoints; heapUsed ${mib(m0.heapUsed)} -> ${mib(m1.heapUsed)} MiB, arrayBuffers ${mib(m0.arrayBuffers)} -> ${mib(m1.arrayBuffers)} MiB, rss ${mib(m0.rss)} -> ${mib(m1.rss)} MiB`,
  );
  gcReport("the fill");
  full = await measure();
  await new Promise((r) => setTimeout(r, 10));
  gcReport("the rounds with the index full");
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const runtime = typeof Bun !== "undefined" ? `Bun ${Bun.version}` : `Node ${process.version}`;
print(
  `${runtime}, ${N} requests per round, ${CONCURRENCY} at a time, median of ${ROUNDS} rounds (${CPU ? "CPU" : "wall"} µs per request):`,
);
if (baseRoot) {
  // Paired rounds: the same round's gateway against gateway-base (what noise moves both by cancels).
  const diffs = results["gateway"]!.map((g, i) => g - results["gateway-base"]![i]!);
  const lower = diffs.filter((d) => d < 0).length;
  print(
    `  gateway − gateway-base, median of paired rounds: ${median(diffs).toFixed(2)} µs (lower in ${lower} of ${diffs.length})`,
  );
}
for (const [name, xs] of Object.entries(results))
  print(
    `  ${name.padEnd(12)} ${median(xs).toFixed(2)}${full ? ` -> ${median(full[name]!).toFixed(2)} with the index full` : ""}`,
  );
print(
  `  chain-11 − composed: ${(median(results["chain-11"]!) - median(results["composed"]!)).toFixed(2)} µs`,
);
