import { describe, expect, test } from "bun:test";
import { deadlineOf, edfOrderingPolicy } from "../../plugins/flow/edf-ordering-policy.ts";
import { fcfsOrderingPolicy } from "../../plugins/flow/fcfs-ordering-policy.ts";
import type { QueueItemView } from "../../src/flow/control/index.ts";
import { harness } from "./helpers.ts";

const edf = { defaultPriorityBand: { orderingPolicyRef: "edf-ordering-policy" }, defaultRequestTTL: "60s" };

const item = (seq: number, arrivedAt: number, deadlineMs?: number): QueueItemView => ({
  request: { deadlineMs } as QueueItemView["request"],
  priority: 0,
  bytes: 1,
  arrivedAt,
  ttlMs: 60_000,
  seq,
});

describe("edf-ordering-policy", () => {
  test.each([
    ["budget from the request", item(0, 1000, 500), 1500],
    ["no budget: arrival + TTL", item(0, 1000), 61_000],
  ] as const)("deadline: %s", (_name, x, expected) => {
    expect(deadlineOf(x)).toBe(expected);
  });

  test("compare orders by deadline; fcfs by arrival", () => {
    const early = item(5, 2000, 100); // deadline 2100
    const late = item(1, 1000, 5000); // deadline 6000
    expect(edfOrderingPolicy().compare(early, late)).toBeLessThan(0);
    expect(fcfsOrderingPolicy().compare(early, late)).toBeGreaterThan(0);
  });

  test("a flow's queue is served by earliest deadline", async () => {
    const h = harness({ config: edf });
    h.submit("busy");
    await h.flush();
    h.submit("d5000", { deadlineMs: 5000 });
    h.time.advance(10);
    h.submit("none"); // deadline = arrival + 60 s
    h.submit("d200", { deadlineMs: 200 });
    h.time.advance(10);
    h.submit("d100", { deadlineMs: 100 }); // arrives later, but due before d200
    h.submit("d1000", { deadlineMs: 1000 });
    await h.drain(10);
    expect(h.admitted).toEqual(["busy", "d100", "d200", "d1000", "d5000", "none"]);
  });

  test("equal deadlines fall back to arrival order", async () => {
    const h = harness({ config: edf });
    h.submit("busy");
    await h.flush();
    for (const t of ["a", "b", "c"]) h.submit(t, { deadlineMs: 300 });
    await h.drain(10);
    expect(h.admitted).toEqual(["busy", "a", "b", "c"]);
  });

  test("without budgets EDF is FCFS", async () => {
    const h = harness({ config: edf });
    h.submit("busy");
    await h.flush();
    for (const t of ["a", "b", "c"]) {
      h.submit(t);
      h.time.advance(1);
    }
    await h.drain(10);
    expect(h.admitted).toEqual(["busy", "a", "b", "c"]);
  });
});
