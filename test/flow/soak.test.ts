import { expect, test } from "bun:test";
import { concurrencyDetector } from "../../plugins/flow/concurrency-detector.ts";
import { maxSaturationDetector } from "../../plugins/flow/max-saturation-detector.ts";
import { seededRandom } from "../../src/clock.ts";
import type { FlowOutcome } from "../../src/flow/control/index.ts";
import { countBy, endpoint, harness, manualDetector, type Ticket } from "./helpers.ts";

const N = 10_000;
const OBJECTIVES = ["critical", "mid", "standard", "batch", undefined] as const;
const priorities = { critical: 10, mid: 5, standard: 0, batch: -1 };
const config = {
  maxRequests: 400,
  maxBytes: "3M",
  defaultRequestTTL: "2s",
  defaultPriorityBand: { maxRequests: 150 },
  priorityBands: [
    {
      priority: 10,
      fairnessPolicyRef: "round-robin-fairness-policy",
      orderingPolicyRef: "edf-ordering-policy",
    },
    { priority: 5, fairnessPolicyRef: "token-fairness-policy" },
    { priority: -1, ceiling: 0.8, maxRequests: 200 },
  ],
};

test(`soak: ${N} mixed requests end exactly once and leave nothing behind`, async () => {
  const random = seededRandom(20240611);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const pressure = manualDetector(0);
  const outcomes: FlowOutcome[] = [];
  const violations: string[] = [];
  const h = harness({
    priorities,
    config,
    endpoints: [endpoint("a"), endpoint("b"), endpoint("c"), endpoint("d")],
    saturation: maxSaturationDetector([concurrencyDetector({ maxConcurrency: 10 }), pressure]),
    observe: {
      queueDuration(e) {
        outcomes.push(e.outcome);
        if (e.outcome !== "dispatched") return;
        // Strict priority: nothing of higher priority may be waiting when this one goes.
        for (const b of h.ctl.stats().bands)
          if (b.priority > e.priority && b.requests > 0)
            violations.push(`${e.priority} passed ${b.priority}`);
      },
    },
  });
  const tickets: Ticket[] = [];
  const aborts = new Map<number, Ticket[]>();
  const releases = new Map<Ticket, number>();
  const release = (t: Ticket) => {
    releases.set(t, (releases.get(t) ?? 0) + 1);
    h.done(t);
  };

  for (let i = 0; i < N; i++) {
    if (i % 700 === 0) pressure.value = pressure.value > 0 ? 0 : 1.2; // bursts of full saturation
    if (i % 700 === 350) h.ctl.onCapacityChange();
    const t = h.submit(`r${i}`, {
      objective: pick(OBJECTIVES),
      fairnessId: `tenant-${Math.floor(random() * 12)}`,
      bytes: 100 + Math.floor(random() * 20_000),
      ...(random() < 0.5 ? { expectedOutputTokens: Math.floor(random() * 500) } : {}),
      ...(random() < 0.3 ? { deadlineMs: Math.floor(random() * 3000) } : {}),
    });
    tickets.push(t);
    if (random() < 0.15) {
      const at = i + Math.floor(random() * 60);
      aborts.set(at, [...(aborts.get(at) ?? []), t]);
    }
    for (const a of aborts.get(i) ?? []) a.abort.abort();
    aborts.delete(i);
    h.time.advance(Math.floor(random() * 6));
    await h.flush();
    // Completions: some requests finish, a few twice (the scope guards that, so must we).
    while (h.held.length > 0 && random() < 0.55) {
      const t = h.held[Math.floor(random() * h.held.length)]!;
      if (random() < 0.05) t.abort.abort(); // client leaves mid-stream: no effect on flow control
      const slot = t.result!.slot;
      release(t);
      if (random() < 0.02) slot.release("error");
    }
    await h.flush();
    const s = h.ctl.stats();
    expect(s.dispatched).toBe(h.held.length);
    expect(s.queued).toBeLessThanOrEqual(400);
    expect(s.queuedBytes).toBeLessThanOrEqual(3_000_000);
  }

  // Wind down: room again, let everything finish.
  pressure.value = 0;
  h.ctl.onCapacityChange();
  for (let guard = 0; (h.held.length > 0 || h.ctl.stats().queued > 0) && guard < 100_000; guard++) {
    const t = h.held[0];
    if (t) release(t);
    await h.flush();
  }
  h.time.advance(10_000);
  await h.flush();

  const stats = h.ctl.stats();
  expect(stats.queued).toBe(0);
  expect(stats.queuedBytes).toBe(0);
  expect(stats.dispatched).toBe(0);
  for (const b of stats.bands) expect(b).toMatchObject({ requests: 0, bytes: 0, flows: [] });
  expect(h.time.pending).toBe(0);
  expect(violations).toEqual([]);

  // Every request ended exactly once; every admitted slot was released exactly once by us.
  expect(tickets.every((t) => t.settledCount === 1)).toBe(true);
  const admitted = tickets.filter((t) => t.state === "admitted");
  expect(admitted.length).toBe(h.admitted.length);
  expect(admitted.every((t) => releases.get(t) === 1)).toBe(true);
  expect(releases.size).toBe(admitted.length);

  // The run exercised every ending.
  const seen = countBy(outcomes);
  for (const o of ["dispatched", "rejected-ttl-expired", "rejected-context-cancelled", "evicted"] as const)
    expect(seen.get(o) ?? 0).toBeGreaterThan(0);
  const rejected = countBy(tickets.filter((t) => t.error).map((t) => t.error!.droppedReason));
  expect(rejected.get("rejected-saturated") ?? 0).toBeGreaterThan(0);
  expect(admitted.length + [...rejected.values()].reduce((a, b) => a + b, 0)).toBe(N);
}, 60_000);
