import { describe, expect, test } from "bun:test";
import { preferFresh } from "../../src/datalayer/freshness.ts";
import { InFlight } from "../../src/endpoints/inflight.ts";
import { EndpointStore } from "../../src/endpoints/store.ts";
import type { Endpoint, MetricsSnapshot, ScrapeStatus } from "../../src/endpoints/types.ts";
import { LoadTracker, newColumns, type SnapshotColumns } from "../../src/scheduling/framework/load.ts";

/**
 * The pool store's columns (src/endpoints/columns.ts) against the endpoint objects they
 * mirror: a decision over an array the store made reads only columns, and must see what
 * the objects say, through scrapes, scrape starts and ends, requests, removals and reuse.
 */

/** A seeded xorshift: the same sequence of operations every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const plain = (name: string, models = ["m"]) => ({
  name,
  address: `127.0.0.1:${8000 + Number(name.slice(1))}`,
  labels: {},
  engine: "vllm",
  models: new Set(models),
});

function snapshot(r: () => number, at: number): MetricsSnapshot {
  const running = Math.floor(r() * 4);
  return {
    waitingQueueSize: r() < 0.4 ? Math.floor(r() * 3) : 0,
    runningRequests: running,
    kvCacheUsage: Math.round(r() * 100) / 100,
    updatedAt: r() < 0.1 ? 0 : at,
    ...(r() < 0.7 ? { cache: { blockSize: r() < 0.9 ? 16 : 32, numBlocks: 100 } } : {}),
  };
}

function scrapeStatus(r: () => number, at: number): ScrapeStatus {
  const inFlight = r() < 0.5;
  return {
    inFlightSince: inFlight ? at : undefined,
    lateAt: inFlight ? at + Math.floor(r() * 100) : undefined,
    failures: r() < 0.2 ? 1 + Math.floor(r() * 3) : 0,
  };
}

const columnsOf = (c: SnapshotColumns) => ({
  waiting: [...c.waiting],
  running: [...c.running],
  assumed: [...c.assumed],
  kvUsage: [...c.kvUsage],
  inflight: [...c.inflight],
  kvScore: [...c.kvScore],
  reported: c.reported,
  blockSize: c.blockSize,
});

describe("the store's columns mirror its endpoints", () => {
  test("through upserts, scrapes, scrape status, requests, removals and a reused slot", () => {
    const inflight = new InFlight();
    const store = new EndpointStore(inflight);
    const cols = store.columns;
    const r = rng(7);
    const held: { release(): void }[] = [];
    store.upsert(["e0", "e1", "e2", "e3"].map((n) => plain(n)));
    for (let step = 1; step <= 400; step++) {
      const names = store.list().map((e) => e.name);
      const name = names[Math.floor(r() * names.length)]!;
      const op = r();
      if (op < 0.3) store.setMetrics(name, snapshot(r, step));
      else if (op < 0.45) store.setScrapeStatus(name, scrapeStatus(r, step));
      else if (op < 0.65) held.push(inflight.acquire(name));
      else if (op < 0.85 && held.length > 0) held.splice(Math.floor(r() * held.length), 1)[0]!.release();
      else if (op < 0.9 && names.length > 2) store.remove(name);
      else if (op < 0.95) store.upsert([plain(`e${4 + Math.floor(r() * 4)}`)]);
      else store.replaceAll(names.filter(() => r() < 0.8).map((n) => plain(n)));
      for (const e of store.list()) {
        const s = cols.slot(e.name)!;
        expect(s).toBeDefined();
        expect(cols.waiting[s]).toBe(e.metrics.waitingQueueSize);
        expect(cols.running[s]).toBe(e.metrics.runningRequests);
        expect(cols.kvUsage[s]).toBe(e.metrics.kvCacheUsage);
        expect(cols.updatedAt[s]).toBe(e.metrics.updatedAt);
        expect(cols.blockSize[s]).toBe(e.metrics.cache?.blockSize ?? 0);
        expect(cols.failures[s]).toBe(e.scrape === undefined ? -1 : e.scrape.failures);
        expect(cols.lateAt[s]).toBe(e.scrape?.lateAt ?? Number.NaN);
        expect(cols.inflight[s]).toBe(inflight.get(e.name));
      }
      expect([...cols.names()].sort()).toEqual(
        store
          .list()
          .map((e) => e.name)
          .sort(),
      );
    }
    // Slots are reused, not grown without end.
    expect(cols.capacity).toBeLessThanOrEqual(16);
  });

  test("an array made before a rebuild is no longer read from the columns (its slots may be another's)", () => {
    const store = new EndpointStore(new InFlight());
    store.upsert([plain("e0"), plain("e1")]);
    const before = store.serving("m");
    expect(store.columns.slotsOf(before)).toBeDefined();
    store.remove("e0");
    store.upsert([plain("e9")]); // takes e0's slot
    expect(store.columns.slot("e9")).toBe(0);
    expect(store.columns.slotsOf(before)).toBeUndefined();
    expect(store.columns.slotsOf(store.serving("m"))).toBeDefined();
    // A subset the scheduler made is not the store's either.
    expect(store.columns.slotsOf(store.serving("m").slice(1))).toBeUndefined();
  });

  test("the in-flight count outlives a removal that happens while requests are out, and is bound again", () => {
    const inflight = new InFlight();
    const store = new EndpointStore(inflight);
    store.upsert([plain("e0")]);
    const a = inflight.acquire("e0");
    inflight.acquire("e0");
    store.remove("e0");
    a.release();
    store.upsert([plain("e0")]);
    expect(store.columns.inflight[store.columns.slot("e0")!]).toBe(1);
    // A second pool's store sees the same counts.
    const other = new EndpointStore(inflight);
    other.upsert([plain("e0")]);
    const b = inflight.acquire("e0");
    expect(other.columns.inflight[other.columns.slot("e0")!]).toBe(2);
    expect(store.columns.inflight[store.columns.slot("e0")!]).toBe(2);
    b.release();
    expect(other.columns.inflight[other.columns.slot("e0")!]).toBe(1);
  });
});

describe("a decision over the store's own array reads the columns and gets what the objects give", () => {
  test("fill and load: the columns' tracker and a tracker reading objects agree step by step", () => {
    const inflight = new InFlight();
    const store = new EndpointStore(inflight);
    const r = rng(11);
    store.upsert(Array.from({ length: 8 }, (_, i) => plain(`e${i}`, i % 3 === 0 ? ["m", "n"] : ["m"])));
    const byColumns = new LoadTracker({ columns: store.columns });
    const byObjects = new LoadTracker();
    const held: { release(): void }[] = [];
    for (let step = 1; step <= 600; step++) {
      const names = store.list().map((e) => e.name);
      const name = names[Math.floor(r() * names.length)]!;
      const op = r();
      if (op < 0.25) store.setMetrics(name, snapshot(r, step));
      else if (op < 0.5) held.push(inflight.acquire(name));
      else if (op < 0.7 && held.length > 0) held.splice(Math.floor(r() * held.length), 1)[0]!.release();
      const model = r() < 0.7 ? "m" : "n";
      const array = store.serving(model);
      // Half the time a subset (what a filter or flow control hands on): read through the objects.
      const endpoints = r() < 0.5 ? array : array.filter(() => r() < 0.7);
      if (endpoints.length === 0) continue;
      const a = newColumns(endpoints.length);
      const b = newColumns(endpoints.length);
      byColumns.fill(endpoints, inflight, a);
      byObjects.fill(endpoints, inflight, b);
      expect(columnsOf(a)).toEqual(columnsOf(b));
      const one = endpoints[Math.floor(r() * endpoints.length)]!;
      expect(byColumns.load(one, inflight, 1)).toEqual(byObjects.load(one, inflight, 1));
      expect(byColumns.assumed(one, inflight)).toBe(byObjects.assumed(one, inflight));
    }
  });

  test("fill over the store's array touches no endpoint's snapshot", () => {
    const inflight = new InFlight();
    const store = new EndpointStore(inflight);
    store.upsert(Array.from({ length: 4 }, (_, i) => plain(`e${i}`)));
    for (const e of store.list())
      store.setMetrics(e.name, { waitingQueueSize: 1, runningRequests: 2, kvCacheUsage: 0.5, updatedAt: 5 });
    let reads = 0;
    for (const e of store.list()) {
      const m = e.metrics;
      Object.defineProperty(e, "metrics", {
        get: () => {
          reads++;
          return m;
        },
      });
    }
    const tracker = new LoadTracker({ columns: store.columns });
    const out = newColumns(4);
    tracker.fill(store.serving("m"), inflight, out);
    expect(reads).toBe(0);
    expect([...out.waiting]).toEqual([1, 1, 1, 1]);
    // Another in-flight view than the one the store's columns mirror: the objects are read.
    tracker.fill(store.serving("m"), new InFlight(), newColumns(4));
    expect(reads).toBeGreaterThan(0);
  });

  test("preferFresh gives the same answer from the columns as from the objects", () => {
    const store = new EndpointStore(new InFlight());
    const r = rng(3);
    store.upsert(Array.from({ length: 6 }, (_, i) => plain(`e${i}`)));
    for (let step = 1; step <= 500; step++) {
      const names = store.list().map((e) => e.name);
      const name = names[Math.floor(r() * names.length)]!;
      if (r() < 0.5) store.setMetrics(name, snapshot(r, step * 10));
      else store.setScrapeStatus(name, scrapeStatus(r, step * 10));
      const array = store.serving("m");
      const now = step * 10 + Math.floor(r() * 200);
      const stalenessMs = 50 + Math.floor(r() * 100);
      const viaColumns = preferFresh(array, now, stalenessMs, store.columns);
      const viaObjects = preferFresh(array, now, stalenessMs);
      expect(viaColumns.map((e: Endpoint) => e.name)).toEqual(viaObjects.map((e: Endpoint) => e.name));
      expect(viaColumns === array).toBe(viaObjects === array);
    }
  });
});

describe("the in-flight counts let go of a stopped pool's columns", () => {
  test("detach: no more writes, and no entry kept for it", () => {
    const inflight = new InFlight();
    const store = new EndpointStore(inflight);
    store.upsert([plain("e0"), plain("e1")]);
    expect(inflight.tracked).toBe(2);
    const held = inflight.acquire("e0");
    store.columns.detach();
    expect(inflight.tracked).toBe(1); // e0 has a request out
    held.release();
    expect(inflight.tracked).toBe(0);
    inflight.acquire("e1");
    expect(store.columns.inflight[store.columns.slot("e1")!]).toBe(0);
  });
});

test("a slot given to a new endpoint does not inherit the old one's baseline", () => {
  const inflight = new InFlight();
  const store = new EndpointStore(inflight);
  const tracker = new LoadTracker({ columns: store.columns });
  store.upsert([plain("e0")]);
  store.setMetrics("e0", { waitingQueueSize: 0, runningRequests: 2, kvCacheUsage: 0.5, updatedAt: 5 });
  tracker.fill(store.serving("m"), inflight, newColumns(1)); // e0's record: 0.25 KV a request
  store.remove("e0");
  store.upsert([plain("e9")]);
  expect(store.columns.slot("e9")).toBe(0);
  // The same scrape time as e0's record, and one request out: the KV per request is e9's own (none yet).
  store.setMetrics("e9", { waitingQueueSize: 0, runningRequests: 0, kvCacheUsage: 0.3, updatedAt: 5 });
  inflight.acquire("e9");
  const out = newColumns(1);
  tracker.fill(store.serving("m"), inflight, out);
  expect(out.kvUsage[0]).toBeCloseTo(0.3, 10);
  expect(out.assumed[0]).toBe(1);
});
