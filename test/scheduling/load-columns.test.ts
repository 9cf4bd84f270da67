import { describe, expect, test } from "bun:test";
import { seededRandom } from "../../src/clock.ts";
import { InFlight } from "../../src/endpoints/inflight.ts";
import type { Endpoint } from "../../src/endpoints/types.ts";
import { createContext } from "../../src/scheduling/framework/context.ts";
import { LoadTracker } from "../../src/scheduling/framework/load.ts";
import { endpoint, fixedClock, NOW, request } from "./helpers.ts";

/**
 * `ctx.loads(endpoints)` (one pass into typed columns, what the load scorers read) gives
 * every endpoint exactly what `ctx.load(e)` gives, across scrapes, full pods, never
 * scraped ones and completions since the scrape.
 */
describe("load columns", () => {
  test("the same numbers as load(e), field by field, through scrapes and completions", () => {
    const r = seededRandom(3);
    const inflight = new InFlight();
    const loads = new LoadTracker();
    const slots: { release(): void }[] = [];
    const eps: { -readonly [K in keyof Endpoint]: Endpoint[K] }[] = Array.from({ length: 24 }, (_, i) =>
      endpoint(`pod-${i}`, { updatedAt: i % 7 === 0 ? 0 : NOW }),
    );
    for (let round = 0; round < 40; round++) {
      for (const e of eps)
        if (r() < 0.3)
          e.metrics = {
            ...e.metrics,
            waitingQueueSize: r() < 0.5 ? 0 : Math.floor(r() * 6),
            runningRequests: Math.floor(r() * 20),
            kvCacheUsage: r() * 0.95,
            updatedAt: e.metrics.updatedAt === 0 ? 0 : NOW + round,
          };
      for (let k = 0; k < 10; k++) slots.push(inflight.acquire(eps[Math.floor(r() * eps.length)]!.name));
      while (slots.length > 30) slots.splice(Math.floor(r() * slots.length), 1)[0]!.release();
      // Two contexts over one tracker: columns first in one, objects first in the other.
      const a = createContext({ request: request(), clock: fixedClock(), inflight, loads });
      const b = createContext({ request: request(), clock: fixedClock(), inflight, loads });
      const cols = a.loads(eps);
      eps.forEach((e, i) => {
        const l = b.load(e);
        expect([
          cols.waiting[i],
          cols.running[i],
          cols.assumed[i],
          cols.kvUsage[i],
          cols.inflight[i],
        ]).toEqual([l.waiting, l.running, l.assumed, l.kvUsage, l.inflight]);
      });
      expect(a.loads(eps)).toBe(cols); // computed once per endpoints array
    }
  });
});

/**
 * Issue 19, twenty-second pass: a decision's load columns are the tracker's scratch, lent to
 * that decision only. A second context asking while the first holds them, and any context
 * asking after its decision ended, gets columns of its own that no later decision writes.
 */
describe("load columns lent to one decision", () => {
  const setUp = () => {
    const inflight = new InFlight();
    const loads = new LoadTracker();
    const eps = Array.from({ length: 6 }, (_, i) => endpoint(`pod-${i}`, { waitingQueueSize: i }));
    const ctx = () => createContext({ request: request(), clock: fixedClock(), inflight, loads });
    return { inflight, eps, ctx };
  };

  test("a decision after an ended one reuses its columns; one inside a decision does not", () => {
    const { eps, ctx } = setUp();
    const a = ctx();
    const first = a.loads(eps);
    const inner = ctx();
    expect(inner.loads(eps)).not.toBe(first); // lent to `a` still
    a.endDecision();
    inner.endDecision(); // gives back nothing of the tracker's
    const b = ctx();
    expect(b.loads(eps)).toBe(first);
    expect(Array.from(first.waiting)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test("columns asked for after the decision are the caller's: a later decision leaves them be", () => {
    const { inflight, eps, ctx } = setUp();
    const a = ctx();
    a.loads(eps);
    a.endDecision();
    const kept = a.loads(eps); // e.g. a PreRequest hook
    const slot = inflight.acquire("pod-2");
    const b = ctx();
    const theirs = b.loads(eps);
    expect(theirs).not.toBe(kept);
    expect(theirs.inflight[2]).toBe(1);
    expect(kept.inflight[2]).toBe(0);
    slot.release();
  });

  test("another endpoints array in the same decision gets columns of its own", () => {
    const { eps, ctx } = setUp();
    const a = ctx();
    const all = a.loads(eps);
    const some = a.loads(eps.slice(0, 6)); // same count, another array (a filter's)
    expect(some).not.toBe(all);
    expect(Array.from(all.waiting)).toEqual([0, 1, 2, 3, 4, 5]);
    a.endDecision();
  });
});
