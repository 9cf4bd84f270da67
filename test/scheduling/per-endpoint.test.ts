import { heapStats } from "bun:jsc";
import { describe, expect, test } from "bun:test";
import { commonBlockSize } from "../../plugins/approx-prefix-cache-producer.ts";
import { builtinRegistry } from "../../plugins/index.ts";
import { kvCacheUtilizationScorer } from "../../plugins/kv-cache-utilization-scorer.ts";
import { maxScorePicker } from "../../plugins/max-score-picker.ts";
import { seededRandom } from "../../src/clock.ts";
import { isLagging, preferFresh } from "../../src/datalayer/freshness.ts";
import { InFlight } from "../../src/endpoints/inflight.ts";
import type { Endpoint, ScrapeStatus } from "../../src/endpoints/types.ts";
import { createContext, madeLoads } from "../../src/scheduling/framework/context.ts";
import { createScheduler } from "../../src/scheduling/framework/index.ts";
import { LoadTracker, MIXED_BLOCK_SIZES } from "../../src/scheduling/framework/load.ts";
import type { PluginObserver } from "../../src/scheduling/framework/runner.ts";
import { context, endpoint, fixedClock, NOW, pods, prompt, request } from "./helpers.ts";

/**
 * Issue 19, eighth pass: what a decision does per candidate endpoint. Each test pins one
 * change: the runner makes no object per endpoint for a picker that reads the totals
 * column, the load tracker finds its records by position in the pool's (unchanged)
 * candidates array, the KV scorer, the block size and the picker read what the load
 * columns' pass took (no walk of their own), the block size is found without a Map when
 * some pods report none; and the results are those of the plain versions.
 */
const observe: PluginObserver = Object.assign(() => {}, { recorder: () => () => {} });

/** Objects of `kind` a call of `one` leaves on the heap, on average over `n` calls (after a warm-up). */
function allocated(kind: string, one: () => void, n = 200): number {
  for (let i = 0; i < 300; i++) one();
  Bun.gc(true);
  const before = heapStats().objectTypeCounts[kind] ?? 0;
  for (let i = 0; i < n; i++) one();
  // A collection in between could only lower the count: the tests cannot fail by it.
  return ((heapStats().objectTypeCounts[kind] ?? 0) - before) / n;
}

describe("per endpoint: what a decision allocates does not grow with the candidates", () => {
  test("the default profile makes no object per candidate (no ScoredEndpoint list on the request path)", () => {
    const perDecision = (n: number) => {
      const s = createScheduler({
        registry: builtinRegistry(),
        inflight: new InFlight(),
        clock: fixedClock(),
        random: seededRandom(1),
        observe,
        observeDecision: () => {},
      });
      const eps = pods(n);
      const req = request({ prompt: "Hello, how are you?" });
      return allocated("Object", () => {
        s.schedule(req, eps);
      });
    };
    const few = perDecision(4);
    const many = perDecision(64);
    // Before: one { endpoint, score } per candidate, 60 more at 64 endpoints than at 4.
    expect(many - few).toBeLessThan(8);
  });

  test("decide's result still lists every candidate with its total, in filter order", () => {
    const s = createScheduler({
      registry: builtinRegistry(),
      inflight: new InFlight(),
      clock: fixedClock(),
      random: seededRandom(1),
    });
    const eps = [endpoint("a", { kvCacheUsage: 0.5 }), endpoint("b", { waitingQueueSize: 3 }), endpoint("c")];
    const r = s.decide(request({ prompt: "Hello" }), eps);
    if (r.kind !== "picked") throw new Error(r.kind);
    expect(r.scored.map((x) => x.endpoint.name)).toEqual(["a", "b", "c"]);
    // queue 2 + kv 2 (x 0.5 for a) + prefix 3 (no block: 0).
    expect(r.scored.map((x) => x.score)).toEqual([2 + 1, 0 + 2, 4]);
    expect(r.scored).toBe(r.scored);
    expect(r.endpoints.map((e) => e.name)).toEqual(["c", "a", "b"]);
  });

  test("the picker's column entry picks what its ScoredEndpoint entry picks, draw for draw", () => {
    for (let trial = 0; trial < 60; trial++) {
      const r = seededRandom(500 + trial);
      const n = 1 + Math.floor(r() * 70);
      const eps = Array.from({ length: n }, (_, i) => endpoint(`pod-${i}`, { runningRequests: i % 3 }));
      // Few distinct totals (many ties) and near-ties inside the rendezvous band.
      const totals = Float64Array.from({ length: n }, () => Math.floor(r() * 4) + Math.floor(r() * 3) * 0.02);
      const params = { maxNumOfEndpoints: 1 + (trial % 4), rendezvous: trial % 3 !== 0 };
      const ctx = context({ request: request({ prompt: prompt(trial, 200) }) });
      const a = maxScorePicker({ random: seededRandom(trial), params });
      const b = maxScorePicker({ random: seededRandom(trial), params });
      const scored = eps.map((endpoint, i) => ({ endpoint, score: totals[i]! }));
      const viaScored = a.pick(ctx, scored).map((e) => e.name);
      const viaColumn = b.pickScores!(ctx, eps, totals).map((e) => e.name);
      expect(viaColumn).toEqual(viaScored);
    }
  });

  test("exact ties with equal draws keep the candidates' order (as k linear passes did)", () => {
    const eps = pods(9);
    const totals = Float64Array.from([1, 3, 2, 3, 3, 1, 2, 3, 0]);
    const picker = maxScorePicker({ random: () => 0.5, params: { maxNumOfEndpoints: 6, rendezvous: false } });
    const got = picker.pickScores!(context(), eps, totals).map((e) => e.name);
    expect(got).toEqual(["pod-1", "pod-3", "pod-4", "pod-7", "pod-2", "pod-6"]);
  });
});

describe("per endpoint: the load tracker finds its records by position", () => {
  test("the same candidates array again: no lookup by name", () => {
    const t = new LoadTracker();
    const inflight = new InFlight();
    const eps = pods(16);
    const columns = () => ({
      waiting: new Float64Array(16),
      running: new Float64Array(16),
      assumed: new Float64Array(16),
      kvUsage: new Float64Array(16),
      inflight: new Float64Array(16),
    });
    t.fill(eps, inflight, columns());
    const base = (t as unknown as { base: Map<string, unknown> }).base;
    let lookups = 0;
    const get = base.get.bind(base);
    base.get = (k: string) => {
      lookups++;
      return get(k);
    };
    t.fill(eps, inflight, columns());
    expect(lookups).toBe(0);
    t.fill([...eps], inflight, columns()); // another array: found by name
    expect(lookups).toBe(16);
  });

  test("columns equal load(e) through forgets, retains, the cap, swaps in place and new snapshots", () => {
    const r = seededRandom(11);
    const inflight = new InFlight();
    const fast = new LoadTracker({ maxEndpoints: 20 });
    const plain = new LoadTracker({ maxEndpoints: 20 });
    const eps: Endpoint[] = Array.from({ length: 16 }, (_, i) =>
      endpoint(`pod-${i}`, { updatedAt: i % 5 === 0 ? 0 : NOW, runningRequests: i % 4 }),
    );
    const held: { release(): void }[] = [];
    const n = eps.length;
    for (let round = 0; round < 300; round++) {
      const x = r();
      if (x < 0.1) fast.forget(eps[Math.floor(r() * n)]!.name);
      else if (x < 0.15) fast.retain(eps.slice(0, 8).map((e) => e.name));
      else if (x < 0.25) {
        // The same array object, two endpoints swapped (a caller's own array).
        const i = Math.floor(r() * n);
        const j = Math.floor(r() * n);
        [eps[i], eps[j]] = [eps[j]!, eps[i]!];
      } else if (x < 0.3) eps[Math.floor(r() * n)] = endpoint(`new-${round}`, { updatedAt: NOW + round });
      else if (x < 0.6) {
        const i = Math.floor(r() * n);
        const e = eps[i]!;
        eps[i] = {
          ...e,
          metrics: { ...e.metrics, updatedAt: NOW + round, runningRequests: Math.floor(r() * 9) },
        };
      }
      if (r() < 0.5) held.push(inflight.acquire(eps[Math.floor(r() * n)]!.name));
      if (held.length > 10) held.splice(Math.floor(r() * held.length), 1)[0]!.release();
      // The plain tracker forgets what the fast one forgets, so both hold the same records.
      if (x < 0.15) plain.retain((fast as unknown as { base: Map<string, unknown> }).base.keys());
      const out = {
        waiting: new Float64Array(n),
        running: new Float64Array(n),
        assumed: new Float64Array(n),
        kvUsage: new Float64Array(n),
        inflight: new Float64Array(n),
      };
      fast.fill(eps, inflight, out);
      eps.forEach((e, i) => {
        const l = plain.load(e, inflight);
        expect([out.waiting[i], out.running[i], out.assumed[i], out.kvUsage[i], out.inflight[i]]).toEqual([
          l.waiting,
          l.running,
          l.assumed,
          l.kvUsage,
          l.inflight,
        ]);
      });
      expect(fast.size).toBe(plain.size);
    }
  });
});

describe("per endpoint: one pass over the candidates' snapshots a decision", () => {
  test("the picker reads the scorers' in-flight column: one lookup by name per candidate, not two", () => {
    const inflight = new InFlight();
    let lookups = 0;
    const counted = {
      get: (name: string) => {
        lookups++;
        return inflight.get(name);
      },
    };
    const s = createScheduler({
      registry: builtinRegistry(),
      inflight: counted,
      clock: fixedClock(),
      random: seededRandom(1),
    });
    const eps = pods(16);
    s.decide(request({ prompt: "Hello" }), eps);
    lookups = 0;
    s.decide(request({ prompt: "Hello" }), eps);
    expect(lookups).toBe(16);
  });

  test("the KV score, the block size, the reported and own load from the columns equal their own passes", () => {
    const r = seededRandom(9);
    const inflight = new InFlight();
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(r() * 20);
      const sizes = [undefined, 0, 16, 16, 32];
      const eps = Array.from({ length: n }, (_, i) => {
        const size = sizes[Math.floor(r() * (trial % 2 === 0 ? 4 : 5))];
        return endpoint(`e${i}`, {
          kvCacheUsage: r(),
          runningRequests: Math.floor(r() * 9),
          waitingQueueSize: Math.floor(r() * 3),
          ...(size === undefined ? {} : { cache: { blockSize: size, numBlocks: 100 } }),
        });
      });
      if (r() < 0.5) inflight.acquire(eps[Math.floor(r() * n)]!.name);
      const ctx = createContext({
        request: request(),
        clock: fixedClock(),
        inflight,
        loads: new LoadTracker(),
      });
      const before = kvCacheUtilizationScorer().score(ctx, eps);
      expect(madeLoads(ctx, eps)).toBeUndefined();
      ctx.loads(eps);
      const made = madeLoads(ctx, eps)!;
      expect(kvCacheUtilizationScorer().score(ctx, eps)).toBe(made.kvScore);
      expect(Array.from(made.kvScore)).toEqual(Array.from(before as Float64Array));
      const common = commonBlockSize(eps);
      if (made.blockSize === MIXED_BLOCK_SIZES) expect(common).toBeGreaterThan(0);
      else expect(made.blockSize).toBe(common);
      let reported = 0;
      let own = 0;
      for (const e of eps) {
        reported += e.metrics.runningRequests + e.metrics.waitingQueueSize;
        own += inflight.get(e.name);
      }
      expect(made.reported).toBe(reported);
      expect(Array.from(made.inflight).reduce((a, b) => a + b, 0)).toBe(own);
      expect(madeLoads(ctx, [...eps])).toBeUndefined(); // another array: its own pass
    }
  });
});

describe("per endpoint: the block size and freshness passes", () => {
  test("commonBlockSize makes no Map when the pods that report a size agree", () => {
    const eps = Array.from({ length: 32 }, (_, i) =>
      endpoint(`e${i}`, i % 3 === 0 ? {} : { cache: { blockSize: 16, numBlocks: 1000 } }),
    );
    const none = pods(32); // a mock pod reports no cache_config_info
    expect(commonBlockSize(eps)).toBe(16);
    expect(commonBlockSize(none)).toBeUndefined();
    expect(allocated("Map", () => commonBlockSize(eps))).toBe(0);
    expect(allocated("Map", () => commonBlockSize(none))).toBe(0);
  });

  test("preferFresh keeps what the plain filter keeps, in order, and the array itself when nothing lags", () => {
    const r = seededRandom(5);
    const statuses: (ScrapeStatus | undefined)[] = [
      undefined,
      { inFlightSince: undefined, lateAt: undefined, failures: 0 },
      { inFlightSince: NOW - 100, lateAt: NOW + 900, failures: 0 },
      { inFlightSince: NOW - 3000, lateAt: NOW - 1, failures: 0 },
      { inFlightSince: undefined, lateAt: undefined, failures: 2 },
    ];
    for (let trial = 0; trial < 400; trial++) {
      const eps = Array.from({ length: Math.floor(r() * 12) }, (_, i) => {
        const age = [0, 1000, 2000, 2001, 5000][Math.floor(r() * 5)]!;
        const e = endpoint(`e${i}`, { updatedAt: r() < 0.1 ? 0 : NOW - age });
        const scrape = statuses[Math.floor(r() * statuses.length)];
        return scrape === undefined ? e : { ...e, scrape };
      });
      const fresh = eps.filter((e) => !isLagging(e, NOW, 2000));
      const want = fresh.length === 0 || fresh.length === eps.length ? eps : fresh;
      const got = preferFresh(eps, NOW, 2000);
      expect(got).toEqual(want);
      if (want === eps) expect(got).toBe(eps);
    }
  });
});
