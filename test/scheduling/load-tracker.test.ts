import { describe, expect, test } from "bun:test";
import { InFlight } from "../../src/endpoints/inflight.ts";
import { LoadTracker } from "../../src/scheduling/framework/load.ts";
import { endpoint } from "./helpers.ts";

function inflight(n: number): InFlight {
  const f = new InFlight();
  for (let i = 0; i < n; i++) f.acquire("e");
  return f;
}

describe("assumed load = in-flight now - in-flight when the snapshot was first seen", () => {
  test.each([
    {
      case: "never scraped: all in-flight assumed",
      updatedAt: 0,
      base: 0,
      now: 3,
      want: { assumed: 3, waiting: 4, running: 5 },
    },
    {
      case: "nothing sent since the scrape",
      updatedAt: 1,
      base: 3,
      now: 3,
      want: { assumed: 0, waiting: 1, running: 2 },
    },
    {
      case: "two sent since the scrape",
      updatedAt: 1,
      base: 3,
      now: 5,
      want: { assumed: 2, waiting: 3, running: 4 },
    },
    {
      case: "completions lower it, not below 0",
      updatedAt: 1,
      base: 5,
      now: 2,
      want: { assumed: -3, waiting: 0, running: 0 },
    },
  ])("$case", ({ updatedAt, base, now, want }) => {
    const t = new LoadTracker();
    const e = endpoint("e", { updatedAt, waitingQueueSize: 1, runningRequests: 2 });
    t.assumed(e, inflight(base)); // first sight of this snapshot
    expect(t.load(e, inflight(now))).toMatchObject({ ...want, inflight: now });
  });

  test("KV usage grows by what each running request held at the last scrape", () => {
    const t = new LoadTracker();
    const e = endpoint("e", { updatedAt: 1, runningRequests: 2, kvCacheUsage: 0.5 });
    t.assumed(e, inflight(0));
    expect(t.load(e, inflight(1)).kvUsage).toBeCloseTo(0.75, 10);
    expect(t.load(e, inflight(1), 1).kvUsage).toBeCloseTo(1, 10);
    // An idle pod's next scrape keeps the last known KV per request.
    const idle = endpoint("e", { updatedAt: 2, runningRequests: 0, kvCacheUsage: 0 });
    expect(t.load(idle, inflight(1), 2).kvUsage).toBeCloseTo(0.5, 10);
  });

  test("extra requests count as sent (what-if for flow control), and in inflight", () => {
    const t = new LoadTracker();
    const e = endpoint("e", { updatedAt: 1, waitingQueueSize: 1, runningRequests: 2 });
    t.assumed(e, inflight(1));
    expect(t.load(e, inflight(2), 3)).toMatchObject({ assumed: 4, waiting: 5, running: 6, inflight: 5 });
  });

  test("a new snapshot resets the baseline", () => {
    const t = new LoadTracker();
    const old = endpoint("e", { updatedAt: 1 });
    t.assumed(old, inflight(0));
    expect(t.assumed(old, inflight(4))).toBe(4);
    const fresh = endpoint("e", { updatedAt: 2, waitingQueueSize: 4 });
    expect(t.assumed(fresh, inflight(4))).toBe(0);
    expect(t.load(fresh, inflight(5)).waiting).toBe(5);
  });

  test("other replicas' load in the scrape does not hide our new requests", () => {
    const t = new LoadTracker();
    const busy = endpoint("e", { updatedAt: 1, runningRequests: 30 }); // 30 from elsewhere
    t.assumed(busy, inflight(0));
    expect(t.load(busy, inflight(2)).running).toBe(32);
  });

  test("bounded: forget, retain and a hard cap", () => {
    const t = new LoadTracker(3);
    for (const n of ["a", "b", "c"]) t.assumed(endpoint(n, { updatedAt: 1 }), new InFlight());
    t.forget("a");
    expect(t.size).toBe(2);
    t.retain(["b"]);
    expect(t.size).toBe(1);
    for (const n of ["x", "y", "z", "w"]) t.assumed(endpoint(n, { updatedAt: 1 }), new InFlight());
    expect(t.size).toBeLessThanOrEqual(3);
  });
});
