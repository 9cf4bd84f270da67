import { describe, expect, test } from "bun:test";
import { countBy, flowsOf, harness } from "./helpers.ts";

const rr = { defaultPriorityBand: { fairnessPolicyRef: "round-robin-fairness-policy" } };

/** Occupies the single slot, queues `counts[flow]` requests per flow (flows in order), drains. */
async function run(counts: Record<string, number>, config: unknown = rr) {
  const h = harness({ config });
  h.submit("busy#0");
  await h.flush();
  for (const [flow, n] of Object.entries(counts))
    for (let i = 0; i < n; i++) h.submit(`${flow}#${i}`, { fairnessId: flow });
  await h.drain(1000);
  expect(h.ctl.stats()).toMatchObject({ queued: 0, dispatched: 0 });
  return flowsOf(h.admitted.slice(1));
}

describe("round-robin-fairness-policy", () => {
  test("A with 100 queued and B with 10 alternate until B drains", async () => {
    const order = await run({ A: 100, B: 10 });
    expect(order.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => (i % 2 ? "B" : "A")));
    expect(order.slice(20)).toEqual(Array(90).fill("A"));
  });

  test("three backlogged flows share 1:1:1 in every window", async () => {
    const order = await run({ A: 50, B: 50, C: 50 });
    for (let i = 0; i + 3 <= 150; i += 3) expect(new Set(order.slice(i, i + 3)).size).toBe(3);
  });

  test("ratios with 3 flows of 60/30/10: equal shares while all are backlogged", async () => {
    const order = await run({ A: 60, B: 30, C: 10 });
    expect(countBy(order.slice(0, 30))).toEqual(
      new Map([
        ["A", 10],
        ["B", 10],
        ["C", 10],
      ]),
    );
    expect(countBy(order.slice(30, 70))).toEqual(
      new Map([
        ["A", 20],
        ["B", 20],
      ]),
    );
  });

  test("flows that join take the next grants, in arrival order, ahead of backlogged ones", async () => {
    const h = harness({ config: rr });
    h.submit("busy#0");
    await h.flush();
    h.submit("A#0", { fairnessId: "A" });
    h.submit("A#1", { fairnessId: "A" });
    h.submit("B#0", { fairnessId: "B" });
    await h.drain(2); // busy, then A#0 dispatched
    h.submit("C#0", { fairnessId: "C" });
    await h.drain(10);
    expect(h.admitted).toEqual(["busy#0", "A#0", "B#0", "C#0", "A#1"]);
  });

  test("a returning flow gets the next grant (one freed slot, not two)", async () => {
    const h = harness({ config: rr });
    h.submit("busy#0");
    await h.flush();
    for (let i = 0; i < 5; i++) h.submit(`A#${i}`, { fairnessId: "A" });
    h.submit("B#0", { fairnessId: "B" });
    await h.drain(2); // busy and A#0 finish: A#0, then B#0 granted; B empties and leaves
    expect(h.admitted).toEqual(["busy#0", "A#0", "B#0"]);
    h.submit("B#1", { fairnessId: "B" }); // B comes back while A is backlogged
    await h.drain(1);
    expect(h.admitted.at(-1)).toBe("B#1");
  });
});

describe("global-strict-fairness-policy (default)", () => {
  test("serves the oldest head-of-line request across flows (global FCFS)", async () => {
    const h = harness();
    h.submit("busy#0");
    await h.flush();
    const tags: string[] = [];
    for (let i = 0; i < 30; i++) {
      const flow = ["A", "B", "C"][(i * 7) % 3]!;
      const tag = `${flow}#${i}`;
      tags.push(tag);
      h.submit(tag, { fairnessId: flow });
      h.time.advance(1);
    }
    await h.drain(100);
    expect(h.admitted.slice(1)).toEqual(tags);
  });

  test("with edf ordering it serves the earliest deadline across flows", async () => {
    const h = harness({ config: { defaultPriorityBand: { orderingPolicyRef: "edf-ordering-policy" } } });
    h.submit("busy#0");
    await h.flush();
    h.submit("A#late", { fairnessId: "A", deadlineMs: 5000 });
    h.submit("B#soon", { fairnessId: "B", deadlineMs: 100 });
    h.submit("A#mid", { fairnessId: "A", deadlineMs: 1000 });
    await h.drain(10);
    expect(h.admitted.slice(1)).toEqual(["B#soon", "A#mid", "A#late"]);
  });
});
