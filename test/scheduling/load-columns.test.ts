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
