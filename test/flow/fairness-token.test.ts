import { describe, expect, test } from "bun:test";
import { builtinFlowPolicies } from "../../plugins/flow/index.ts";
import { tokenFairnessPolicy } from "../../plugins/flow/token-fairness-policy.ts";
import { countBy, flowsOf, harness } from "./helpers.ts";

const token = { defaultPriorityBand: { fairnessPolicyRef: "token-fairness-policy" } };

describe("token-fairness-policy", () => {
  test("10x bigger prompts get ~1/10 of the requests and about the same tokens", async () => {
    const h = harness({ config: token });
    h.submit("busy#0");
    await h.flush();
    for (let i = 0; i < 200; i++) {
      h.submit(`big#${i}`, { fairnessId: "big", bytes: 4000 }); // 1000 tokens
      h.submit(`small#${i}`, { fairnessId: "small", bytes: 400 }); // 100 tokens
    }
    await h.drain(221); // busy + 220 dispatches, both flows stay backlogged
    const counts = countBy(flowsOf(h.admitted.slice(1, 221)));
    const big = counts.get("big") ?? 0;
    const small = counts.get("small") ?? 0;
    expect(big + small).toBe(220);
    expect(small / big).toBeGreaterThan(8);
    expect(small / big).toBeLessThan(12);
    const tokensBig = big * 1000;
    const tokensSmall = small * 100;
    expect(Math.abs(tokensBig - tokensSmall) / Math.max(tokensBig, tokensSmall)).toBeLessThan(0.1);
    h.ctl.shutdown();
  });

  test("expected output tokens count with their weight (default 2)", async () => {
    const h = harness({ config: token });
    h.submit("busy#0");
    await h.flush();
    for (let i = 0; i < 100; i++) {
      // Same prompt size; 'long' asks for 450 output tokens: 100 + 2*450 = 1000 vs 100.
      h.submit(`long#${i}`, { fairnessId: "long", bytes: 400, expectedOutputTokens: 450 });
      h.submit(`short#${i}`, { fairnessId: "short", bytes: 400 });
    }
    await h.drain(56);
    const counts = countBy(flowsOf(h.admitted.slice(1, 56)));
    expect(counts.get("long")).toBe(5);
    expect(counts.get("short")).toBe(50);
    h.ctl.shutdown();
  });

  test("a flow that becomes active is lifted to the active minimum: no banked credit", async () => {
    const h = harness({ config: token });
    h.submit("busy#0");
    await h.flush();
    for (let i = 0; i < 100; i++) h.submit(`A#${i}`, { fairnessId: "A" });
    await h.drain(51); // A alone: 50 served, its counter is high
    for (let i = 0; i < 20; i++) h.submit(`B#${i}`, { fairnessId: "B" });
    await h.drain(20);
    const next = flowsOf(h.admitted.slice(51, 71));
    // Without the lift B (counter 0) would take all 20; with it they alternate.
    expect(countBy(next).get("B")).toBeGreaterThanOrEqual(9);
    expect(countBy(next).get("B")).toBeLessThanOrEqual(11);
    h.ctl.shutdown();
  });

  test("a returning flow gets the next grant: its lifted counter ties, and the tie is its", async () => {
    const h = harness({ config: token });
    h.submit("busy#0");
    await h.flush();
    for (let i = 0; i < 10; i++) h.submit(`A#${i}`, { fairnessId: "A" });
    await h.drain(3); // A#0..A#2 granted: A's counter is 75, its head (A#3) is older than B's
    h.submit("B#0", { fairnessId: "B" }); // lifted to A's counter: a tie
    await h.drain(1);
    expect(h.admitted.at(-1)).toBe("B#0");
    h.ctl.shutdown();
  });

  test("custom weights through a named plugin instance", async () => {
    const policies = builtinFlowPolicies([
      { type: "token-fairness-policy", name: "input-only", parameters: { outputTokenWeight: 0 } },
    ]);
    const h = harness({ policies, config: { defaultPriorityBand: { fairnessPolicyRef: "input-only" } } });
    h.submit("busy#0");
    await h.flush();
    for (let i = 0; i < 40; i++) {
      h.submit(`a#${i}`, { fairnessId: "a", bytes: 400, expectedOutputTokens: 10_000 });
      h.submit(`b#${i}`, { fairnessId: "b", bytes: 400 });
    }
    await h.drain(21);
    expect(countBy(flowsOf(h.admitted.slice(1, 21))).get("a")).toBe(10); // outputs ignored
    h.ctl.shutdown();
  });

  test("state stays bounded: counters go when the band empties", () => {
    const p = tokenFairnessPolicy();
    const s = p.newState();
    const flow = (id: string) => ({
      fairnessId: id,
      priority: 0,
      length: 1,
      bytes: 4,
      head: () => ({ request: {} as never, priority: 0, bytes: 4, arrivedAt: 0, ttlMs: 1, seq: 0 }),
    });
    const a = flow("a");
    const b = flow("b");
    p.activated?.(s, a, []);
    p.activated?.(s, b, [a]);
    p.dispatched?.(s, a, a.head());
    p.deactivated?.(s, a, [b]); // a's counter (1) > b's (0): kept, it must not regain credit
    expect([...s.counters.keys()]).toEqual(["a", "b"]);
    p.deactivated?.(s, b, []); // band idle: a new busy period starts from zero
    expect(s.counters.size).toBe(0);
  });
});
