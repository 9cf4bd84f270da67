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
      scraped: { updatedAt: 0 },
      base: 0,
      now: 3,
      want: { assumed: 3, waiting: 3, running: 3 },
    },
    {
      case: "free slots, nothing sent since the scrape",
      scraped: { runningRequests: 2 },
      base: 2,
      now: 2,
      want: { assumed: 0, waiting: 0, running: 2 },
    },
    {
      case: "free slots, two sent: counted as running and as waiting (unknown free slots)",
      scraped: { runningRequests: 2 },
      base: 2,
      now: 4,
      want: { assumed: 2, waiting: 2, running: 4 },
    },
    {
      case: "free slots, completions lower running (3 of the 5 running are another replica's)",
      scraped: { runningRequests: 5 },
      base: 2,
      now: 0,
      want: { assumed: -2, waiting: 0, running: 3 },
    },
    {
      case: "a request on the wire when the pod wrote its metrics still counts",
      scraped: { runningRequests: 2 },
      base: 3,
      now: 3,
      want: { assumed: 1, waiting: 1, running: 3 },
    },
    {
      case: "full pod (it had a queue): sends join the queue",
      scraped: { waitingQueueSize: 1, runningRequests: 2 },
      base: 3,
      now: 5,
      want: { assumed: 2, waiting: 3, running: 2 },
    },
    {
      case: "full pod: a completion drains the queue before it frees a slot",
      scraped: { waitingQueueSize: 1, runningRequests: 2 },
      base: 3,
      now: 2,
      want: { assumed: -1, waiting: 0, running: 2 },
    },
    {
      case: "full pod: more completions free slots",
      scraped: { waitingQueueSize: 1, runningRequests: 2 },
      base: 3,
      now: 0,
      want: { assumed: -3, waiting: 0, running: 0 },
    },
  ])("$case", ({ scraped, base, now, want }) => {
    const t = new LoadTracker();
    const e = endpoint("e", { updatedAt: 1, ...scraped });
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
    expect(t.load(idle, inflight(0), 2).kvUsage).toBeCloseTo(0.5, 10);
  });

  test("extra requests count as sent (what-if for flow control), and in inflight", () => {
    const t = new LoadTracker();
    const e = endpoint("e", { updatedAt: 1, runningRequests: 2 });
    t.assumed(e, inflight(1));
    expect(t.load(e, inflight(2), 3)).toMatchObject({ assumed: 4, waiting: 4, running: 6, inflight: 5 });
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
    const t = new LoadTracker({ maxEndpoints: 3 });
    for (const n of ["a", "b", "c"]) t.assumed(endpoint(n, { updatedAt: 1 }), new InFlight());
    t.forget("a");
    expect(t.size).toBe(2);
    t.retain(["b"]);
    expect(t.size).toBe(1);
    for (const n of ["x", "y", "z", "w"]) t.assumed(endpoint(n, { updatedAt: 1 }), new InFlight());
    expect(t.size).toBeLessThanOrEqual(3);
  });
});
