import { heapStats } from "bun:jsc";
import { describe, expect, test } from "bun:test";
import { builtinRegistry } from "../../plugins/index.ts";
import { seededRandom } from "../../src/clock.ts";
import { InFlight } from "../../src/endpoints/inflight.ts";
import type { Endpoint } from "../../src/endpoints/types.ts";
import { ColumnPool, STALE_COLUMNS } from "../../src/scheduling/framework/columns.ts";
import { createScheduler } from "../../src/scheduling/framework/index.ts";
import type { SchedulingContext } from "../../src/scheduling/framework/interfaces.ts";
import { endpoint, fixedClock, pods, request } from "./helpers.ts";

/**
 * Issue 19, eighth pass: a decision's columns (the six load columns and the first profile's
 * totals) come from the scheduler's pool and go back when no hook of the decision can read
 * them any more (columns.ts). These pin: no typed array per column per decision, a hook
 * reads its own decision's numbers however many decisions ran since, a read after the
 * decision ended throws, and picks equal those of decisions that never reuse a set.
 */

/** A scorer (weight 0) and lifecycle hooks that read the context's load columns: a late reader. */
function withReader(seen: { ctx?: SchedulingContext; endpoints?: readonly Endpoint[]; late: number[][] }) {
  const registry = builtinRegistry();
  registry.register("column-reader", () => ({
    type: "column-reader",
    name: "column-reader",
    score(ctx: SchedulingContext, endpoints: readonly Endpoint[]) {
      seen.ctx = ctx;
      seen.endpoints = endpoints;
      return endpoints.map(() => 0);
    },
    responseComplete(ctx: SchedulingContext) {
      seen.late.push([...ctx.loads(seen.endpoints!).waiting]);
    },
  }));
  return registry;
}

const READER_CONFIG = {
  apiVersion: "inference.networking.x-k8s.io/v1alpha1",
  kind: "EndpointPickerConfig",
  plugins: [{ type: "queue-scorer" }, { type: "column-reader" }, { type: "max-score-picker" }],
  schedulingProfiles: [
    {
      name: "default",
      plugins: [
        { pluginRef: "queue-scorer" },
        { pluginRef: "column-reader", weight: 0 },
        { pluginRef: "max-score-picker" },
      ],
    },
  ],
};

describe("the decisions' column pool", () => {
  test("a decision at 64 endpoints makes no typed array for its columns and scores (Bun counts them)", async () => {
    const s = createScheduler({
      registry: builtinRegistry(),
      inflight: new InFlight(),
      clock: fixedClock(),
      random: seededRandom(1),
    });
    const eps = pods(64);
    const req = request({ prompt: "Hello, how are you?" });
    const one = () => {
      const d = s.schedule(req, eps);
      d.lifecycle!.responseReceived(d.endpoints[0]!, { status: 200, headers: new Headers() });
      d.lifecycle!.responseComplete("success");
    };
    for (let i = 0; i < 300; i++) one();
    await Promise.resolve();
    Bun.gc(true);
    const n = 200;
    const before = heapStats().objectTypeCounts;
    for (let i = 0; i < n; i++) one();
    const after = heapStats().objectTypeCounts;
    const per = ((after["Float64Array"] ?? 0) - (before["Float64Array"] ?? 0)) / n;
    // Six load columns, the totals, the queue and prefix scorers' scores: it made nine.
    expect(per).toBeLessThan(0.5);
  });

  test("a hook reads its own decision's columns while other decisions ran and ended since", () => {
    const seen: { ctx?: SchedulingContext; endpoints?: readonly Endpoint[]; late: number[][] } = { late: [] };
    const inflight = new InFlight();
    const s = createScheduler({
      registry: withReader(seen),
      inflight,
      clock: fixedClock(),
      random: seededRandom(2),
      config: READER_CONFIG,
    });
    const eps = pods(16);
    const req = request({ prompt: "x" });
    const a = s.schedule(req, eps);
    const atDecision = [...seen.ctx!.loads(seen.endpoints!).waiting];
    // Other decisions with other loads take, fill and give back sets while `a` is open.
    const held = eps.map((e) => inflight.acquire(e.name));
    for (let i = 0; i < 5; i++) {
      const b = s.schedule(req, eps);
      b.lifecycle!.responseComplete("success");
    }
    expect(seen.late.at(-1)!.every((w) => w >= 1)).toBe(true);
    a.lifecycle!.responseComplete("success");
    expect(seen.late.at(-1)).toEqual(atDecision);
    expect(atDecision.every((w) => w === 0)).toBe(true);
    for (const h of held) h.release();
  });

  test("reading a context's columns after its decision ended throws rather than show another's", () => {
    const seen: { ctx?: SchedulingContext; endpoints?: readonly Endpoint[]; late: number[][] } = { late: [] };
    const s = createScheduler({
      registry: withReader(seen),
      inflight: new InFlight(),
      clock: fixedClock(),
      random: seededRandom(3),
      config: READER_CONFIG,
    });
    const eps = pods(16);
    const d = s.schedule(request({ prompt: "x" }), eps);
    const ctx = seen.ctx!;
    const candidates = seen.endpoints!;
    d.lifecycle!.responseComplete("success");
    s.schedule(request({ prompt: "y" }), eps).lifecycle!.responseComplete("success");
    expect(() => ctx.loads(candidates)).toThrow(STALE_COLUMNS);
  });

  test("decide's scores stay readable after later decisions (its set is never given back)", () => {
    const s = createScheduler({
      registry: builtinRegistry(),
      inflight: new InFlight(),
      clock: fixedClock(),
      random: seededRandom(4),
    });
    const eps = Array.from({ length: 12 }, (_, i) => endpoint(`pod-${i}`, { waitingQueueSize: i }));
    const first = s.decide(request({ prompt: "x" }), eps);
    const copy = first.kind === "picked" ? first.scored.map((x) => x.score) : [];
    const again = s.decide(request({ prompt: "x" }), eps);
    for (let i = 0; i < 20; i++)
      s.schedule(request({ prompt: `p${i}` }), eps).lifecycle?.responseComplete("success");
    expect(first.kind).toBe("picked");
    if (first.kind !== "picked" || again.kind !== "picked") return;
    expect(first.scored.map((x) => x.score)).toEqual(copy);
    expect(copy[0]).toBeGreaterThan(copy[11]!);
  });

  test("picks with reused sets equal those with fresh ones, over seeded decisions of changing size", () => {
    // Load scorers and the picker only: no lifecycle hook, so `schedule` ends each decision
    // at once (its set is reused by the next) and `decide` never does (a fresh set each).
    const config = {
      apiVersion: "inference.networking.x-k8s.io/v1alpha1",
      kind: "EndpointPickerConfig",
      plugins: [
        { type: "queue-scorer" },
        { type: "kv-cache-utilization-scorer" },
        { type: "max-score-picker" },
      ],
      schedulingProfiles: [
        {
          name: "default",
          plugins: [
            { pluginRef: "queue-scorer", weight: 2 },
            { pluginRef: "kv-cache-utilization-scorer" },
            { pluginRef: "max-score-picker" },
          ],
        },
      ],
    };
    const mk = () => {
      const inflight = new InFlight();
      return {
        inflight,
        s: createScheduler({
          registry: builtinRegistry(),
          inflight,
          clock: fixedClock(),
          random: seededRandom(9),
          config,
        }),
      };
    };
    const reused = mk();
    const fresh = mk();
    const r = seededRandom(42);
    const all = Array.from({ length: 40 }, (_, i) =>
      endpoint(`pod-${i}`, {
        waitingQueueSize: Math.floor(r() * 4),
        runningRequests: Math.floor(r() * 8),
        kvCacheUsage: r(),
      }),
    );
    const sizes = [3, 9, 9, 9, 40, 40, 17, 9];
    for (let i = 0; i < 600; i++) {
      const n = sizes[i % sizes.length]!;
      const eps = all.slice(0, n);
      const req = request({ prompt: `prompt ${Math.floor(r() * 30)} ${"z".repeat(200)}` });
      // One scheduler ends each decision (its set goes back and is reused), the other never does.
      const a = reused.s.schedule(req, eps);
      const b = fresh.s.decide(req, eps);
      expect(b.kind).toBe("picked");
      if (b.kind !== "picked") return;
      expect(a.endpoints.map((e) => e.name)).toEqual(b.endpoints.map((e) => e.name));
      expect(a.lifecycle).toBeUndefined();
      if (i % 5 === 0) {
        reused.inflight.acquire(a.endpoints[0]!.name);
        fresh.inflight.acquire(b.endpoints[0]!.name);
      }
    }
  });

  test("the pool hands out exact sizes, ignores a second give, bumps the epoch both ways", () => {
    const pool = new ColumnPool();
    const a = pool.take(10);
    const e = a.epoch;
    expect(a.waiting.length).toBe(10);
    expect(a.totals.length).toBe(10);
    pool.give(a, e);
    pool.give(a, e);
    expect(pool.freeCount).toBe(1);
    expect(a.epoch).toBe(e + 1);
    const b = pool.take(10);
    expect(b).toBe(a);
    expect(b.epoch).toBe(e + 2);
    pool.give(b, b.epoch);
    const c = pool.take(12);
    expect(c).not.toBe(a);
    expect(c.kvScore.length).toBe(12);
    // Sizes alternating (flow control's candidates with room): each size's set is reused.
    pool.give(c, c.epoch);
    expect(pool.take(10)).toBe(a);
    expect(pool.take(12)).toBe(c);
  });

  test("a full pool drops the sizes it no longer hands out rather than stop reusing", () => {
    const pool = new ColumnPool(4);
    const small = [pool.take(4), pool.take(4), pool.take(4), pool.take(4)];
    for (const s of small) pool.give(s, s.epoch);
    expect(pool.freeCount).toBe(4);
    const big = pool.take(64);
    pool.give(big, big.epoch);
    expect(pool.freeCount).toBe(1);
    expect(pool.take(64)).toBe(big);
    const more = [pool.take(64), pool.take(64), pool.take(64), pool.take(64), pool.take(64)];
    for (const s of more) pool.give(s, s.epoch);
    expect(pool.freeCount).toBe(4);
  });
});
