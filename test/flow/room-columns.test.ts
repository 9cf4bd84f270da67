import { describe, expect, test } from "bun:test";
import { concurrencyDetector } from "../../plugins/flow/concurrency-detector.ts";
import { maxSaturationDetector } from "../../plugins/flow/max-saturation-detector.ts";
import { utilizationDetector } from "../../plugins/flow/utilization-detector.ts";
import { seededRandom } from "../../src/clock.ts";
import { InFlight } from "../../src/endpoints/inflight.ts";
import { EndpointStore } from "../../src/endpoints/store.ts";
import type { Endpoint, MetricsSnapshot, ScrapeStatus } from "../../src/endpoints/types.ts";
import { Reservations, trackedLoads } from "../../src/flow/control/saturation.ts";
import type { RoomColumns, SaturationDetector } from "../../src/flow/control/types.ts";
import { LoadTracker } from "../../src/scheduling/framework/load.ts";

/**
 * Flow control's room check from columns (issue 19, twenty-fourth pass): with a detector
 * that scores from columns and loads that fill them, `withRoom` must answer exactly what the
 * per-endpoint path answers, through stale and late snapshots, scrape failures, requests in
 * flight, reservations and changing endpoints.
 */

const plain = (name: string) => ({
  name,
  address: `127.0.0.1:${8000 + Number(name.slice(1))}`,
  labels: {},
  engine: "vllm",
  models: new Set(["m"]),
});

/** The same detector without its columns: the per-endpoint path, for reference. */
const perEndpoint = (d: SaturationDetector): SaturationDetector => ({
  type: d.type,
  name: d.name,
  score: (e, load, now) => d.score(e, load, now),
});

const detectors = (): [string, SaturationDetector][] => [
  ["utilization", utilizationDetector({ queueDepthThreshold: 5, kvCacheUtilThreshold: 0.8 })],
  ["concurrency", concurrencyDetector({ maxConcurrency: 6 })],
  [
    "max (the README's saturationDetector)",
    maxSaturationDetector([
      utilizationDetector({
        queueDepthThreshold: 5,
        kvCacheUtilThreshold: 0.8,
        metricsStalenessThreshold: 1000,
      }),
      concurrencyDetector({ maxConcurrency: 6 }),
    ]),
  ],
];

describe("withRoom from columns answers as the per-endpoint path", () => {
  for (const [label, detector] of detectors())
    test(label, () => {
      expect(detector.scoreColumns).toBeDefined();
      const r = seededRandom(label.length * 7919);
      // The closed sets' draws: their own sequence, so the steps above stay as they were.
      const pick = seededRandom(label.length * 104729);
      const inflight = new InFlight();
      const store = new EndpointStore(inflight);
      const tracker = new LoadTracker({ columns: store.columns });
      const fast = new Reservations({
        detector,
        loads: trackedLoads(tracker, inflight, store.columns),
      });
      const slow = new Reservations({
        detector: perEndpoint(detector),
        loads: trackedLoads(tracker, inflight),
      });
      const sent: { release(): void }[] = [];
      const reserved: (() => void)[][] = [];
      let now = 1000;
      const scrape = (name: string) => {
        const m: MetricsSnapshot = {
          waitingQueueSize: r() < 0.1 ? Math.floor(r() * 7) : 0,
          runningRequests: Math.floor(r() * 4),
          kvCacheUsage: r() < 0.03 ? 0.95 : Math.round(r() * 40) / 100,
          updatedAt: r() < 0.03 ? 0 : now - Math.floor(r() * 80),
        };
        store.setMetrics(name, m);
      };
      store.upsert(Array.from({ length: 6 }, (_, i) => plain(`e${i}`)));
      for (const e of store.list()) scrape(e.name);
      let answers = 0;
      let allRoom = 0;
      let allRoomHeld = 0;
      let subsets = 0;
      let laterFinds = 0;
      for (let step = 0; step < 1500; step++) {
        now += Math.floor(r() * 30);
        const names = store.list().map((e) => e.name);
        const name = names[Math.floor(r() * names.length)]!;
        const op = r();
        if (op < 0.25) scrape(name);
        else if (op < 0.35) {
          const inFlight = r() < 0.5;
          const s: ScrapeStatus = {
            inFlightSince: inFlight ? now : undefined,
            lateAt: inFlight ? now + 20 : undefined,
            failures: r() < 0.2 ? 1 : 0,
          };
          store.setScrapeStatus(name, s);
        } else if (op < 0.47) sent.push(inflight.acquire(name));
        else if (op < 0.62 && sent.length > 0) sent.splice(Math.floor(r() * sent.length), 1)[0]!.release();
        else if (op < 0.72) {
          const e = store.list().find((x) => x.name === name)!;
          reserved.push([fast.reserve(e), slow.reserve(e)]);
        } else if (op < 0.82 && reserved.length > 0)
          for (const give of reserved.splice(Math.floor(r() * reserved.length), 1)[0]!) give();
        else if (op < 0.83 && names.length > 2) store.remove(name);
        else if (op < 0.86) {
          const added = `e${Math.floor(r() * 9)}`;
          store.upsert([plain(added)]);
          if (r() < 0.8) scrape(added);
        }
        const all = store.list();
        // The store's own array and, now and then, a subset (no columns for it).
        const candidates: readonly Endpoint[] = r() < 0.8 ? all : all.filter(() => r() < 0.7);
        const ceiling = r() < 0.7 ? 1 : 0.8;
        const want = slow.withRoom(candidates, ceiling, now).map((e) => e.name);
        const got = fast.withRoom(candidates, ceiling, now);
        expect(got.map((e) => e.name)).toEqual(want);
        // The first place with room, some candidates closed: as the per-endpoint path finds it.
        const closed = new Set(candidates.filter(() => pick() < 0.2));
        expect(fast.find(candidates, ceiling, now, closed)?.name).toBe(
          slow.find(candidates, ceiling, now, closed)?.name,
        );
        const open = slow.find(candidates, ceiling, now);
        if (open !== undefined && open !== candidates[0]) laterFinds++;
        // A subset of the store's array carries its slots, so the decision reads columns too.
        if (got !== candidates && got.length > 0 && candidates === all) {
          const slots = store.columns.slotsOf(got);
          expect(slots).toBeDefined();
          expect([...slots!]).toEqual(got.map((e) => store.columns.slot(e.name)!));
          subsets++;
        }
        if (got === candidates) {
          allRoom++;
          if (reserved.length > 0) allRoomHeld++;
        }
        answers++;
      }
      // Both answers were exercised: every candidate with room (with places reserved too), and some without.
      expect(allRoom).toBeGreaterThan(10);
      expect(allRoomHeld).toBeGreaterThan(3);
      expect(allRoom).toBeLessThan(answers / 2);
      expect(subsets).toBeGreaterThan(50);
      expect(laterFinds).toBeGreaterThan(50);
    });
});

test("the columns' scores are the detectors' own where they give one", () => {
  const d = maxSaturationDetector([
    utilizationDetector({ queueDepthThreshold: 5, kvCacheUtilThreshold: 0.8 }),
    concurrencyDetector({ maxConcurrency: 10 }),
  ]);
  const n = 4;
  const col = (xs: number[]) => Float64Array.from(xs);
  const cols: RoomColumns = {
    waiting: col([0, 6, 1, 2]),
    running: col([1, 1, 1, 1]),
    assumed: col([0, 0, 0, 0]),
    kvUsage: col([0.1, 0.2, 0.9, 0.3]),
    inflight: col([2, 0, 0, 20]),
    updatedAt: col([990, 995, 999, 0]),
  };
  const out = new Float64Array(n);
  d.scoreColumns!(cols, n, 1000, out);
  expect(out[0]).toBeCloseTo(0.2);
  expect(out[1]).toBeCloseTo(1.2);
  expect(out[2]).toBeCloseTo(1.125);
  // Never scraped: the column cannot tell, so `score` is asked (NaN).
  expect(Number.isNaN(out[3]!)).toBe(true);
});

test("find from columns: past a full first candidate, skips the closed ones and finds the first with room", () => {
  const inflight = new InFlight();
  const store = new EndpointStore(inflight);
  const tracker = new LoadTracker({ columns: store.columns });
  const room = new Reservations({
    detector: utilizationDetector({}),
    loads: trackedLoads(tracker, inflight, store.columns),
  });
  store.upsert(["e0", "e1", "e2", "e3"].map(plain));
  const waiting = [9, 0, 9, 0];
  for (const [i, e] of store.list().entries())
    store.setMetrics(e.name, {
      waitingQueueSize: waiting[i]!,
      runningRequests: 0,
      kvCacheUsage: 0,
      updatedAt: 1000,
    });
  const all = store.list();
  expect(room.find(all, 1, 1000)?.name).toBe("e1");
  expect(room.find(all, 1, 1000, new Set([all[1]!]))?.name).toBe("e3");
  expect(room.find(all, 1, 1000, new Set([all[1]!, all[3]!]))).toBeUndefined();
  // A reservation on e1 up to the ceiling (5 places at queueDepthThreshold 5): the next one.
  for (let k = 0; k < 5; k++) room.reserve(all[1]!);
  expect(room.find(all, 1, 1000)?.name).toBe("e3");
});
