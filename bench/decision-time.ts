/**
 * Decision-time benchmark (run on purpose: `npm run bench:decision`): one scheduling
 * decision with the default profile, directly on the scheduler (no HTTP), for 8, 64 and
 * 256 endpoints and chat prompts of 1k, 32k and 128k characters. Target: p99 under
 * 0.3 ms at 64 endpoints and 32k characters, under Bun.
 *
 * `npm run bench:decision` runs it under Bun, then under Node (`node --import tsx`, as a
 * child process), and writes both to bench/results/decision-time.md. Run directly,
 * under either runtime, it prints its own table only:
 *   bun bench/decision-time.ts          node --import tsx bench/decision-time.ts
 *
 * Setup per cell: a fresh scheduler (default profile, seeded Random, real clock); fake
 * endpoints with scraped-looking metrics (waiting 0-5, running 0-20, KV 0-90 %, cache
 * block size 16) and a few in-flight requests each; chat prompts in 16 groups sharing a
 * system prompt (up to 4,000 characters), half of them new questions and half repeats
 * (see requestStream), so the prefix index sees hits and misses. Before the young phase,
 * BENCH_WARM_CODE (10,000) decisions of the same stream on a throwaway scheduler compile the
 * code, as a gateway that has served a few thousand requests runs it (`warmCode`); then
 * warm-up decisions (index filling), then the timed ones, each a full `decide` (filters, scorers, picker,
 * PreRequest hooks). The prefix index records a pick in a microtask after the decision
 * (`PrefixIndex.recordLater`; in a gateway, once the request is on its way to the pod):
 * the loop lets microtasks run between decisions, as a gateway's requests do, and times
 * that work apart ("after the pick"). A second pass with the plugin observer gives the
 * mean time per plugin. BENCH_TRACE=1 prints each phase's decisions split (prefix score,
 * PreRequest, other plugins, framework; new blocks; GC), BENCH_TRACE=marks also marks
 * each decision on stderr for BUN_JSC_logGC=1 / --trace-gc (bench/lib/decision-trace.ts).
 *
 * What is charged to a decision: the requests (their bodies JSON round-tripped, as a
 * gateway parses them) are all made before the first timed decision, so the collections
 * the benchmark's own garbage causes do not land in a timed decision; the decision's own
 * allocations (hashes, match, load columns, scores) stay in it. Under Node the table
 * also counts the timed decisions a GC pause overlapped (`gc` performance entries).
 *
 * On Linux each timed decision also records whether the main thread waited for a core
 * during it (another thread or process ran: the machine, not the decision) and its page
 * faults (bench/lib/thread-clock.ts); the table gives the p99 of the decisions that did
 * not wait beside the p99 of all.
 *
 * Knobs: BENCH_DECISIONS (timed decisions with a full index, 1500), BENCH_ENDPOINTS
 * ("8,64,256"), BENCH_CHARS ("1000,32000,128000"), BENCH_OUT (results file; "-" = don't
 * write), BENCH_NO_NODE=1 (skip the Node run), BENCH_WARM_CODE, BENCH_COLD=1 (also the young phase
 * before the code warm-up, as measured up to the sixth pass), BENCH_BASELINE (a worktree of an older
 * commit: its scheduler measured by this same harness, in a child process per runtime,
 * and a before → after table), BENCH_TREE (set by BENCH_BASELINE: the tree measured).
 */
import { spawnSync } from "node:child_process";
import { writeFileSync, writeSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Endpoint } from "../src/endpoints/types.ts";
import type { SchedulingResult } from "../src/scheduling/framework/index.ts";
import type { SchedulingRequest } from "../src/scheduling/types.ts";
import { type DecisionTrace, decisionTrace } from "./lib/decision-trace.ts";
import { threadClock } from "./lib/thread-clock.ts";
import { text } from "./lib/workload.ts";

/**
 * The tree whose scheduler is measured: this one, or BENCH_TREE (how BENCH_BASELINE runs
 * an older tree: under this same harness, so before and after are measured alike).
 */
const TREE = process.env["BENCH_TREE"] ?? fileURLToPath(new URL("..", import.meta.url));
const { builtinRegistry } = (await import(
  `${TREE}/plugins/index.ts`
)) as typeof import("../plugins/index.ts");
const { seededRandom, systemClock } = (await import(
  `${TREE}/src/clock.ts`
)) as typeof import("../src/clock.ts");
const { InFlight } = (await import(
  `${TREE}/src/endpoints/inflight.ts`
)) as typeof import("../src/endpoints/inflight.ts");
const { createScheduler } = (await import(
  `${TREE}/src/scheduling/framework/index.ts`
)) as typeof import("../src/scheduling/framework/index.ts");
const { hashPrefix } = (await import(
  `${TREE}/src/scheduling/prefix/hashes.ts`
)) as typeof import("../src/scheduling/prefix/hashes.ts");
const { DEFAULT_LRU_CAPACITY_PER_SERVER, PrefixIndex } = (await import(
  `${TREE}/src/scheduling/prefix/prefix-index.ts`
)) as typeof import("../src/scheduling/prefix/prefix-index.ts");
const { promptParts } = (await import(
  `${TREE}/src/scheduling/prefix/prompt.ts`
)) as typeof import("../src/scheduling/prefix/prompt.ts");
type PrefixIndex = InstanceType<typeof PrefixIndex>;

const DECISIONS = Number(process.env["BENCH_DECISIONS"] ?? 1500);
const FRESH = 1000;
const WARMUP = 300;
const WARMUP_FULL = 1000;
/** Full-index runs above this many endpoints are skipped: 31,250 entries each cost memory. */
const FULL_MAX_ENDPOINTS = Number(process.env["BENCH_FULL_MAX_ENDPOINTS"] ?? 64);
const nums = (k: string, d: string) => (process.env[k] ?? d).split(",").map(Number);
const ENDPOINTS = nums("BENCH_ENDPOINTS", "8,64,256");
const CHARS = nums("BENCH_CHARS", "1000,32000,128000");
const MODEL = "meta-llama/Llama-3.1-8B-Instruct";
/**
 * Decisions of the cell's own request stream run on throwaway schedulers (their own young
 * indexes, dropped after) before the young phase, so the decision's code is compiled as in
 * a gateway that has served some thousands of requests. Under Bun, JSC was still moving
 * decision functions to its top tier (FTL) up to ~15,000 decisions in; after 3,000, FTL
 * compiles of the pickers, scorers and prefix match still landed in the timed young phase
 * (docs/scheduling.md §5, seventh pass).
 */
const WARM_CODE = Number(process.env["BENCH_WARM_CODE"] ?? 10_000);
/**
 * BENCH_COLD=1: each cell's young phase is also measured before that warm-up, as this
 * benchmark measured it up to the sixth pass (the code only as warm as the cells before
 * it in the process left it; in a run of one cell, a process's first decisions).
 */
const COLD = process.env["BENCH_COLD"] === "1";
/** Linux: what the main thread waited for a core and faulted in each timed decision. */
const tc = threadClock();
/** BENCH_TRACE=1: each phase's timed decisions split and printed (bench/lib/decision-trace.ts). */
const TRACE = process.env["BENCH_TRACE"] === "1" || process.env["BENCH_TRACE"] === "marks";
/** BENCH_TRACE=marks: also "@W k" on stderr every 500 decisions of the code warm-up (`warmCode`). */
const MARKS = process.env["BENCH_TRACE"] === "marks";

const runtime = typeof Bun !== "undefined" ? `Bun ${Bun.version}` : `Node ${process.versions.node} (tsx)`;

interface Cell {
  /**
   * fresh: a young index, no evictions yet, the code warmed on a throwaway scheduler
   * first; full: the index has stopped growing (LRUs evicting); cold: a young index
   * before that warm-up (BENCH_COLD=1).
   */
  phase: "cold" | "fresh" | "full";
  endpoints: number;
  chars: number;
  p50: number;
  p99: number;
  mean: number;
  max: number;
  /**
   * p99 of the timed decisions during which the thread never waited for a core (Linux
   * schedstat; undefined elsewhere): the decision's own tail, the machine's left out.
   * A longer decision is likelier to be descheduled, so this leans a little low.
   */
  p99Own: number | undefined;
  /** Timed decisions during which the thread waited for a core (another thread or process ran). */
  descheduled: number | undefined;
  /** Minor page faults per timed decision (Linux). */
  faults: number | undefined;
  /**
   * The work left after the pick returned, before the next decision (a microtask: the
   * pick's index record, `PrefixIndex.recordLater`), p50 and p99; in a gateway it runs
   * once the request is on its way to the pod.
   */
  after50: number;
  after99: number;
  /** Mean µs per plugin (observer pass), by plugin type. */
  plugins: Record<string, number>;
  /** Index hit ratio over the timed decisions. */
  hitRatio: number;
  /** (block, endpoint) entries in the prefix index after the timed decisions. */
  indexEntries: number;
  /**
   * Process CPU time / wall time over the timed decisions. Below ~1 the process was
   * descheduled (the machine was busy) and the tail is partly that; above 1, GC threads.
   */
  cpuShare: number;
  /** Timed decisions during which a garbage collection ran (Node only; undefined under Bun). */
  gcIn: number | undefined;
}

function endpoints(n: number, seed: number): Endpoint[] {
  const r = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => ({
    name: `pod-${i}:8000`,
    address: `10.0.${i >> 8}.${i & 255}:8000`,
    labels: { app: "vllm" },
    engine: "vllm",
    models: new Set([MODEL]),
    metrics: {
      waitingQueueSize: Math.floor(r() * 6),
      runningRequests: Math.floor(r() * 21),
      kvCacheUsage: r() * 0.9,
      cache: { blockSize: 16, numBlocks: 31_250 },
      updatedAt: 1,
    },
  }));
}

/**
 * The request stream of one cell: 16 groups, each with a shared system prompt (up to
 * 4,000 characters). Half the requests are new questions (a new user message, unique from
 * its first block: hits on the system prompt only, new blocks for the index); half repeat
 * an earlier request (a follow-up: a full hit). Bodies go through a JSON round trip, so
 * their strings are flat, as the gateway's parsed bodies are.
 */
function requestStream(chars: number): (i: number) => Record<string, unknown> {
  const r = seededRandom(chars);
  const systemChars = Math.min(4000, Math.floor(chars / 2));
  const systems = Array.from({ length: 16 }, () => text(r, systemChars));
  const filler = text(r, chars);
  const seen: Record<string, unknown>[] = [];
  return (i) => {
    if (seen.length > 0 && r() < 0.5) return seen[Math.floor(r() * seen.length)]!;
    const question = `question ${i}: ${filler}`.slice(0, chars - systemChars);
    const body = JSON.parse(
      JSON.stringify({
        model: MODEL,
        stream: true,
        messages: [
          { role: "system", content: systems[i % 16]! },
          { role: "user", content: question },
        ],
      }),
    ) as Record<string, unknown>;
    if (seen.length < 256) seen.push(body);
    else seen[Math.floor(r() * 256)] = body;
    return body;
  };
}

/**
 * One phase of one cell, on a fresh scheduler. "fresh": a young index (warm-up, then the
 * timed decisions; no LRU fills up). "full": every endpoint's LRU is first filled to the
 * prefix scorer's default capacity (31,250 blocks) with blocks of old, unrelated prompts,
 * as in a gateway that has run for a while, so every new prompt evicts.
 *
 * Load moves as in a gateway: each decision takes an in-flight slot on its primary,
 * released 4 x endpoints decisions later, so the assumed load spreads the picks.
 */
async function measurePhase(n: number, chars: number, phase: Cell["phase"]): Promise<Cell> {
  const eps = endpoints(n, n);
  const inflight = new InFlight();
  const slots: { release(): void }[] = [];
  const plugins = new Map<string, number>();
  let observing = false;
  let tr: DecisionTrace | undefined;
  const s = createScheduler({
    registry: builtinRegistry(),
    inflight,
    random: seededRandom(2),
    clock: systemClock,
    observe: (point, type, _name, seconds) => {
      if (tr !== undefined) tr.observe(point, type, seconds);
      else if (observing) plugins.set(type, (plugins.get(type) ?? 0) + seconds);
    },
  });
  if (phase === "full")
    prefill(
      s.prefixIndex,
      eps.map((e) => e.name),
    );
  const next = requestStream(chars);
  const headers = new Headers();
  const warmup = phase === "full" ? WARMUP_FULL : WARMUP;
  const count = phase === "full" ? DECISIONS : FRESH;
  const observed = Math.min(count, 300);
  // Every request is made before any is timed: the bodies are the benchmark's garbage, and
  // a collection they cause must not land in (and be charged to) a timed decision. What a
  // decision allocates itself (hashes, the match, load columns, scores) stays in it.
  const requests = Array.from(
    { length: warmup + count + observed },
    (_, k): SchedulingRequest => ({ requestId: `r${k}`, targetModel: MODEL, body: next(k + 1), headers }),
  );
  let i = 0;
  const req = (): SchedulingRequest => requests[i++]!;
  const settle = (result: SchedulingResult) => {
    if (result.kind !== "picked") return;
    slots.push(inflight.acquire(result.endpoints[0]!.name));
    if (slots.length > 4 * n) slots.shift()!.release();
  };

  for (let k = 0; k < warmup; k++) {
    settle(s.decide(req(), eps));
    await null; // a gateway's requests are tasks of their own: microtasks run between decisions
  }
  const gc = gcWatch();
  const before = s.prefixIndex.stats();
  const times = new Float64Array(count);
  const afters = new Float64Array(count);
  const starts = new Float64Array(count);
  const waits = new Float64Array(count).fill(tc ? 0 : Number.NaN);
  const faults = new Float64Array(count).fill(tc ? 0 : Number.NaN);
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  tr = TRACE ? decisionTrace(count) : undefined;
  for (let k = 0; k < count; k++) {
    const rq = req();
    tr?.before(s.prefixIndex.stats());
    tc?.read();
    const w0 = tc?.waited ?? 0;
    const f0 = tc?.faults ?? 0;
    const t0 = performance.now();
    const result = s.decide(rq, eps);
    const t1 = performance.now();
    if (tc) {
      tc.read();
      waits[k] = (tc.waited - w0) / 1000;
      faults[k] = tc.faults - f0;
    }
    times[k] = t1 - t0;
    starts[k] = t0;
    tr?.after(k, times[k]!, s.prefixIndex.stats(), waits[k]!, faults[k]!);
    const t2 = performance.now();
    await null; // the pick's record, deferred to a microtask (PrefixIndex.recordLater)
    afters[k] = performance.now() - t2;
    tr?.settled(k);
    settle(result);
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuShare = (cpu.user + cpu.system) / 1000 / (performance.now() - wall0);
  const gcFlags = await gc.flags(starts, times);
  const gcIn = gcFlags?.reduce((a, b) => a + b, 0);
  if (tr) {
    tr.report(`${phase} ${n} endpoints ${chars} chars`, gcFlags);
    tr = undefined;
  }
  const after = s.prefixIndex.stats();
  // The observer pass: more decisions of the same stream, with per-plugin timing on.
  observing = true;
  for (let k = 0; k < observed; k++) {
    settle(s.decide(req(), eps));
    await null;
  }
  const own = times.filter((_, k) => waits[k] === 0).sort();
  times.sort();
  afters.sort();
  const at = (q: number) => times[Math.min(count - 1, Math.floor(q * count))]!;
  return {
    phase,
    endpoints: n,
    chars,
    p50: at(0.5),
    p99: at(0.99),
    mean: times.reduce((a, b) => a + b, 0) / count,
    max: times[count - 1]!,
    p99Own: tc && own.length > 0 ? own[Math.min(own.length - 1, Math.floor(0.99 * own.length))] : undefined,
    descheduled: tc ? count - own.length : undefined,
    faults: tc ? faults.reduce((a, b) => a + b, 0) / count : undefined,
    after50: afters[Math.floor(count * 0.5)]!,
    after99: afters[Math.floor(count * 0.99)]!,
    plugins: Object.fromEntries([...plugins].map(([type, total]) => [type, (total / observed) * 1e6])),
    hitRatio:
      after.totalBlocks > before.totalBlocks
        ? (after.matchedBlocks - before.matchedBlocks) / (after.totalBlocks - before.totalBlocks)
        : 0,
    indexEntries: after.entries,
    cpuShare,
    gcIn,
  };
}

/**
 * Timed decisions a garbage collection ran in, where the runtime reports its pauses (Node:
 * `gc` performance entries; Bun reports none): a tail made of those is collection, not
 * the decision's own work.
 */
function gcWatch(): { flags(starts: Float64Array, times: Float64Array): Promise<Uint8Array | undefined> } {
  if (typeof Bun !== "undefined") return { flags: async () => undefined };
  const pauses: { start: number; end: number }[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) pauses.push({ start: e.startTime, end: e.startTime + e.duration });
  });
  observer.observe({ entryTypes: ["gc"] });
  return {
    async flags(starts, times) {
      await new Promise((r) => setTimeout(r, 0)); // the observer is told asynchronously
      observer.disconnect();
      const out = new Uint8Array(starts.length);
      for (let k = 0; k < starts.length; k++) {
        const a = starts[k]!;
        const b = a + times[k]!;
        if (pauses.some((p) => p.start < b && p.end > a)) out[k] = 1;
      }
      return out;
    },
  };
}

interface Component {
  phase: Cell["phase"];
  step: string;
  p50: number;
  p99: number;
  mean: number;
}

/**
 * The prefix scorer's steps timed one by one, outside the framework, on the same request
 * stream (64 endpoints' names; the primary = the longest match, else round-robin):
 * serializing the prompt, hashing it, matching the index, recording the pick.
 */
function components(n: number, chars: number, phase: Cell["phase"]): Component[] {
  const index = new PrefixIndex();
  const names = Array.from({ length: n }, (_, i) => `pod-${i}:8000`);
  if (phase === "full") prefill(index, names);
  const next = requestStream(chars);
  const steps = [
    "promptParts (16 KiB window)",
    "hashPrefix (256 blocks max)",
    "PrefixIndex.matchLengths",
    "PrefixIndex.record",
  ];
  const count = phase === "full" ? DECISIONS : FRESH;
  const warm = phase === "full" ? WARMUP_FULL : WARMUP;
  const times = steps.map(() => new Float64Array(count));
  const bodies = Array.from({ length: warm + count }, (_, k) => next(k)); // before any timing (see measurePhase)
  for (let k = 0; k < warm + count; k++) {
    const body = bodies[k]!;
    const t0 = performance.now();
    const prompt = promptParts(body, undefined, 256 * 64).parts;
    const t1 = performance.now();
    const h = hashPrefix(prompt, { model: MODEL, blockChars: 64, maxBlocks: 256 });
    const t2 = performance.now();
    const m = index.matchLengths(h.keys);
    const t3 = performance.now();
    let best = names[k % n]!;
    let bestN = 0;
    for (const name of names) {
      const c = m.get(name) ?? 0;
      if (c > bestN) [best, bestN] = [name, c];
    }
    const t4 = performance.now();
    index.record(best, h.keys);
    const t5 = performance.now();
    if (k < warm) continue;
    const j = k - warm;
    times[0]![j] = t1 - t0;
    times[1]![j] = t2 - t1;
    times[2]![j] = t3 - t2;
    times[3]![j] = t5 - t4;
  }
  return steps.map((step, i) => {
    const t = times[i]!.sort();
    return {
      phase,
      step,
      p50: t[Math.floor(count * 0.5)]!,
      p99: t[Math.floor(count * 0.99)]!,
      mean: t.reduce((a, b) => a + b, 0) / count,
    };
  });
}

/** Fills every endpoint's LRU to the default capacity with blocks of old, unrelated prompts. */
function prefill(index: PrefixIndex, names: readonly string[]): void {
  let key = 1;
  const chunk = new Array<number>(250);
  for (const name of names) {
    for (let k = 0; k < DEFAULT_LRU_CAPACITY_PER_SERVER; k += chunk.length) {
      for (let j = 0; j < chunk.length; j++) chunk[j] = 2 ** 52 + key++;
      index.record(name, chunk);
    }
  }
}

/**
 * Runs `WARM_CODE` decisions of the cell's request stream on a throwaway scheduler (same
 * profile, endpoints and observer shape, its own young index) and drops it, so the young
 * phase's fresh scheduler runs code JSC or V8 has compiled, as a gateway's does once it
 * has served a few thousand requests (of this pool or another), while its index is as
 * young as ever. Without this, a cell run first in its process timed the decision's code
 * while it was still being compiled: under Bun the decision functions reach the
 * optimizing tiers only after some hundreds of calls, and the compiler threads share the
 * machine's cores with the decisions (docs/scheduling.md §5, seventh pass).
 */
async function warmCode(n: number, chars: number): Promise<void> {
  const eps = endpoints(n, n);
  const headers = new Headers();
  // A new throwaway scheduler every 2,000 decisions: the code stays warm, the index young
  // (its memory bounded: ~200k entries at most).
  for (let done = 0; done < WARM_CODE; done += 2000) {
    const inflight = new InFlight();
    const slots: { release(): void }[] = [];
    const s = createScheduler({
      registry: builtinRegistry(),
      inflight,
      random: seededRandom(3 + done),
      clock: systemClock,
      observe: () => {},
    });
    const next = requestStream(chars + done);
    for (let k = 0; k < Math.min(2000, WARM_CODE - done); k++) {
      const result = s.decide({ requestId: `w${k}`, targetModel: MODEL, body: next(k + 1), headers }, eps);
      await null;
      if (MARKS && k % 500 === 0) writeSync(2, `@W ${done + k}\n`);
      if (result.kind !== "picked") continue;
      slots.push(inflight.acquire(result.endpoints[0]!.name));
      if (slots.length > 4 * n) slots.shift()!.release();
    }
  }
  fullGc(); // the throwaway indexes and requests are garbage now: collected here, not in a timed decision
}

async function measureCell(n: number, chars: number): Promise<Cell[]> {
  const cells = COLD ? [await measurePhase(n, chars, "cold")] : [];
  await warmCode(n, chars);
  cells.push(await measurePhase(n, chars, "fresh"));
  if (n <= FULL_MAX_ENDPOINTS) cells.push(await measurePhase(n, chars, "full"));
  fullGc();
  return cells;
}

/** Forces a full GC where the runtime allows it (Bun; Node with --expose-gc). */
function fullGc(): boolean {
  const g = globalThis as { Bun?: { gc(force: boolean): void }; gc?: () => void };
  if (g.Bun) g.Bun.gc(true);
  else if (g.gc) g.gc();
  else return false;
  return true;
}

/**
 * Heap bytes in use, typed arrays' storage included: V8 counts it outside `heapUsed`
 * (in `arrayBuffers`), JSC inside.
 */
function heapBytes(): number {
  const m = process.memoryUsage();
  return m.heapUsed + (typeof Bun === "undefined" ? m.arrayBuffers : 0);
}

/** Heap taken by a full prefix index of `n` endpoints (default capacity), per (block, endpoint) entry. */
async function indexMemory(n: number): Promise<{ mib: number; bytesPerEntry: number } | undefined> {
  // Collected twice with a pause between: Bun sweeps what a collection freed lazily, and the
  // phases' request bodies (tens of MB) counted against the index otherwise.
  const settled = async () => {
    fullGc();
    await new Promise((r) => setTimeout(r, 200));
    return fullGc();
  };
  if (!(await settled())) return undefined;
  const h0 = heapBytes();
  const index = new PrefixIndex();
  prefill(
    index,
    Array.from({ length: n }, (_, i) => `pod-${i}:8000`),
  );
  await settled();
  const bytes = heapBytes() - h0;
  const entries = index.stats().entries;
  return { mib: bytes / 2 ** 20, bytesPerEntry: bytes / entries };
}

interface Results {
  runtime: string;
  cells: Cell[];
  components: Component[];
  memory: { mib: number; bytesPerEntry: number } | undefined;
}

async function run(): Promise<Results> {
  const cells: Cell[] = [];
  for (const n of ENDPOINTS) {
    for (const chars of CHARS) {
      for (const c of await measureCell(n, chars)) {
        cells.push(c);
        console.error(
          `${runtime}: ${n} endpoints, ${chars} chars, ${c.phase} index (${c.indexEntries} entries): ` +
            `p50 ${us(c.p50)} p99 ${us(c.p99)} mean ${us(c.mean)} µs, CPU/wall ${c.cpuShare.toFixed(2)}`,
        );
      }
    }
  }
  const parts = [...components(64, 32_000, "fresh"), ...components(64, 32_000, "full")];
  fullGc();
  return { runtime, cells, components: parts, memory: await indexMemory(64) };
}

const us = (ms: number) => (ms * 1000).toFixed(0);

const PHASE: Record<Cell["phase"], string> = { cold: "young, code cold", fresh: "young", full: "full" };

const SHORT: Record<string, string> = {
  "queue-scorer": "queue",
  "kv-cache-utilization-scorer": "kv",
  "prefix-cache-scorer": "prefix (score + PreRequest)",
  "max-score-picker": "picker",
};

function table(cells: Cell[]): string[] {
  const types = [...new Set(cells.flatMap((c) => Object.keys(c.plugins)))];
  const gc = cells.some((c) => c.gcIn !== undefined);
  return [
    `| endpoints | prompt chars | p50 (µs) | p99 (µs) | mean (µs) | max (µs) | p99 not descheduled (µs) / decisions descheduled | page faults a decision | after the pick p50 / p99 (µs) | ${types.map((t) => `${SHORT[t] ?? t} (µs)`).join(" | ")} | index hit ratio | index entries | CPU/wall |${gc ? " timed decisions a GC ran in |" : ""}`,
    `|---|---|---|---|---|---|---|---|---|${types.map(() => "---|").join("")}---|---|---|${gc ? "---|" : ""}`,
    ...cells.map(
      (c) =>
        `| ${c.endpoints} | ${c.chars.toLocaleString("en-US")} | ${us(c.p50)} | ${us(c.p99)} | ${us(c.mean)} | ${us(c.max)} | ${c.p99Own === undefined ? "-" : `${us(c.p99Own)} / ${c.descheduled}`} | ${c.faults === undefined ? "-" : c.faults.toFixed(1)} | ${us(c.after50 ?? 0)} / ${us(c.after99 ?? 0)} | ${types.map((t) => (c.plugins[t] ?? 0).toFixed(0)).join(" | ")} | ${(c.hitRatio * 100).toFixed(0)} % | ${c.indexEntries.toLocaleString("en-US")} | ${c.cpuShare.toFixed(2)} |${gc ? ` ${c.gcIn ?? "-"} |` : ""}`,
    ),
  ];
}

function tables(r: Results): string[] {
  const mem = r.memory
    ? `A full index for 64 endpoints (2,000,000 entries) takes ${r.memory.mib.toFixed(0)} MiB of heap ` +
      `(${r.memory.bytesPerEntry.toFixed(0)} bytes per entry; forced GC before and after).`
    : "Index memory: not measured (no way to force a GC; run Node with --expose-gc).";
  return [
    mem,
    "",
    ...(r.cells.some((c) => c.phase === "cold")
      ? [
          "Young index, measured before the code warm-up (BENCH_COLD=1; as up to the sixth pass: the code only as warm as the cells before it left it):",
          "",
          ...table(r.cells.filter((c) => c.phase === "cold")),
          "",
        ]
      : []),
    `Young index (no LRU full yet; the code first warmed by ${WARM_CODE.toLocaleString("en-US")} decisions on throwaway schedulers):`,
    "",
    ...table(r.cells.filter((c) => c.phase === "fresh")),
    "",
    "Full index (every endpoint's LRU at the default 31,250 blocks: each new block evicts one):",
    "",
    ...table(r.cells.filter((c) => c.phase === "full")),
    "",
    "The prefix scorer's steps alone (64 endpoints, 32k characters, same request stream):",
    "",
    "| index | step | p50 (µs) | p99 (µs) | mean (µs) |",
    "|---|---|---|---|---|",
    ...r.components.map(
      (c) =>
        `| ${c.phase === "fresh" ? "young" : "full"} | ${c.step} | ${us(c.p50)} | ${us(c.p99)} | ${us(c.mean)} |`,
    ),
  ];
}

/** The prefix scorer's steps against the whole decision, from the components table. */
function whereTimeGoes(r: Results): string[] {
  const out: string[] = [];
  for (const phase of ["fresh", "full"] as const) {
    const cell = r.cells.find((c) => c.endpoints === 64 && c.chars === 32_000 && c.phase === phase);
    const parts = r.components.filter((c) => c.phase === phase);
    if (!cell || parts.length === 0) continue;
    const list = parts.map((c) => `${c.step} ${us(c.p50)} µs (p99 ${us(c.p99)})`).join(", ");
    out.push(
      `- ${phase === "fresh" ? "Young" : "Full"} index: decision p50 ${us(cell.p50)} µs; the prefix scorer's ` +
        `steps alone, p50: ${list}.`,
    );
  }
  return out;
}

/** Runs this benchmark (or a baseline tree's) in a child process; its results, or undefined when it failed. */
function child(cmd: string, args: string[], tree?: string): Results | undefined {
  console.log(`running ${cmd} ${args.join(" ")}${tree ? ` over ${tree}` : ""} …`);
  const res = spawnSync(cmd, args, {
    env: { ...process.env, DECISION_JSON: "1", ...(tree ? { BENCH_TREE: tree } : {}) },
    encoding: "utf8",
    maxBuffer: 16 << 20,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return res.status === 0 ? (JSON.parse(res.stdout) as Results) : undefined;
}

/** p50 / p99 / mean before → after per cell, for one runtime. */
function compare(label: string, a: Results | undefined, b: Results | undefined): string[] {
  if (!a || !b) return [`${label}: not run.`, ""];
  const rows = b.cells.flatMap((c) => {
    const o = a.cells.find((x) => x.phase === c.phase && x.endpoints === c.endpoints && x.chars === c.chars);
    if (!o) return [];
    const cell = (x: number, y: number) => `${us(x)} → ${us(y)}`;
    return [
      `| ${label} | ${PHASE[c.phase]} | ${c.endpoints} | ${c.chars.toLocaleString("en-US")} | ${cell(o.p50, c.p50)} | ${cell(o.p99, c.p99)} | ${cell(o.mean, c.mean)} | ${cell(o.max, c.max)} | ${cell(o.after99 ?? 0, c.after99 ?? 0)} | ${cell(o.p50 + (o.after50 ?? 0), c.p50 + (c.after50 ?? 0))} |`,
    ];
  });
  const mem =
    a.memory && b.memory ? `${a.memory.mib.toFixed(0)} → ${b.memory.mib.toFixed(0)} MiB` : "not measured";
  return [
    `${label}: heap of a full 64-endpoint index ${mem}.`,
    "",
    "| runtime | index | endpoints | prompt chars | p50 (µs) | p99 (µs) | mean (µs) | max (µs) | after the pick p99 (µs) | p50 decision + after (µs) |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
  ];
}

const results = await run();
if (process.env["DECISION_JSON"]) {
  process.stdout.write(JSON.stringify(results));
} else if (typeof Bun === "undefined") {
  console.log(`\n${tables(results).join("\n")}`);
} else {
  let node: Results | undefined;
  let nodeError = "";
  const self = fileURLToPath(import.meta.url);
  const baseline = process.env["BENCH_BASELINE"];

  const before: { bun?: Results; node?: Results } = {};
  if (baseline) before.bun = child("bun", [self], baseline);
  if (process.env["BENCH_NO_NODE"] !== "1") {
    console.log("running under Node …");
    node = child("node", ["--expose-gc", "--import", "tsx", self]);
    if (!node) nodeError = "node failed (see stderr)";
    if (baseline) before.node = child("node", ["--expose-gc", "--import", "tsx", self], baseline);
  }
  const target = (cs: Cell[], phase: Cell["phase"]) =>
    cs.find((c) => c.endpoints === 64 && c.chars === 32_000 && c.phase === phase);
  const lines = [
    "# Scheduling decision time",
    "",
    `Run ${new Date().toISOString().slice(0, 10)} on a shared machine with 2 cores (other work running). Command:`,
    "",
    "```sh",
    `${["BENCH_DECISIONS", "BENCH_ENDPOINTS", "BENCH_CHARS", "BENCH_BASELINE"]
      .filter((k) => process.env[k])
      .map((k) => `${k}=${process.env[k]} `)
      .join("")}npm run bench:decision`,
    "```",
    "",
    "One `decide` of the default profile (queue-scorer ×2, kv-cache-utilization-scorer ×2, " +
      "prefix-cache-scorer ×3, max-score-picker with 3 endpoints, PreRequest hooks), called " +
      "directly on `createScheduler` (no HTTP, no JSON parsing). Fake endpoints with scraped-looking " +
      "metrics; chat prompts in 16 groups sharing a system prompt (up to 4,000 characters), half of " +
      "them new questions (unique after the system prompt), half repeats of an earlier request, so the " +
      "prefix index sees hits and misses and keeps growing; bodies are JSON round-tripped (flat strings). " +
      "Each decision takes an in-flight slot on its primary, released 4 × endpoints decisions later, so " +
      `picks spread as the assumed load moves. Young index: the code first warmed by ${WARM_CODE.toLocaleString("en-US")} decisions of the same stream ` +
      `on throwaway schedulers (a new one every 2,000; as in a gateway that has served that many requests), then a fresh scheduler, ${WARMUP} warm-up decisions, ` +
      `${FRESH} timed. Full index: every endpoint's LRU first filled to the default capacity (31,250 blocks) ` +
      `with blocks of old, unrelated prompts, as in a gateway that has run a while, ${WARMUP_FULL} warm-up ` +
      `decisions, ${DECISIONS} timed; skipped above ${FULL_MAX_ENDPOINTS} endpoints (the index alone would take ` +
      "GBs). `performance.now()` around each decision; every request is made before the first timed decision (the benchmark's own garbage out of the timed ones). Plugin columns: mean per decision from a second " +
      "pass with the plugin observer on (its own timing adds a little); the prefix column includes the " +
      "PreRequest hook. The pick's index record runs in a microtask after the decision (PrefixIndex.recordLater; " +
      "in a gateway once the request is on its way to the pod): the loop lets microtasks run between decisions and " +
      'times that work apart ("after the pick"). CPU/wall: process CPU time over wall time during the timed decisions; below 1, ' +
      'the process was descheduled (busy machine) and the tail includes that; "p99 not descheduled": the p99 of the timed decisions during ' +
      "which the main thread never waited for a core (Linux schedstat), i.e. the decisions' own tail with the machine's left out, and how many " +
      "decisions did wait. The prefix scorer hashes at " +
      "most 256 blocks of 64 " +
      "characters (16 KiB), so 32k and 128k prompts hash the same amount; the difference between them is " +
      "the prompt serialization.",
    "",
    `## ${runtime}`,
    "",
    ...tables(results),
    "",
    `## ${node?.runtime ?? "Node"}`,
    "",
    ...(node ? tables(node) : [`Not run: ${nodeError || "BENCH_NO_NODE=1"}`]),
    "",
    ...(baseline
      ? [
          `## Before → after (same run; before = the tree in ${baseline}, measured by this harness in a child process)`,
          "",
          ...compare("Bun", before.bun, results),
          ...compare("Node", before.node, node),
          "",
        ]
      : []),
    "## Where the time goes (Bun, 64 endpoints, 32k characters)",
    "",
    ...whereTimeGoes(results),
    "",
    "## Target",
    "",
  ];
  for (const phase of ["fresh", "full"] as const) {
    const label = phase === "fresh" ? "young index" : "full index";
    const t = target(results.cells, phase);
    const tn = node && target(node.cells, phase);
    if (!t) continue;
    lines.push(
      `- ${label}: p99 at 64 endpoints and 32k characters under Bun ${us(t.p99)} µs (target < 300 µs): ` +
        `**${t.p99 < 0.3 ? "met" : "not met"}**` +
        (tn ? `; under Node ${us(tn.p99)} µs (${tn.p99 < 0.3 ? "under" : "over"} 300 µs).` : "."),
    );
  }
  const text = `${lines.join("\n")}\n`;
  console.log(`\n${text}`);
  const out =
    process.env["BENCH_OUT"] ?? fileURLToPath(new URL("./results/decision-time.md", import.meta.url));
  if (out !== "-") writeFileSync(out, text);
}
