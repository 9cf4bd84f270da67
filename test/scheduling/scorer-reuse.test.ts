import { describe, expect, test } from "bun:test";
import { maxScorePicker } from "../../plugins/max-score-picker.ts";
import { prefixCacheScorer } from "../../plugins/prefix-cache-scorer.ts";
import { queueScorer } from "../../plugins/queue-scorer.ts";
import { seededRandom } from "../../src/clock.ts";
import type { Endpoint } from "../../src/endpoints/types.ts";
import type { SchedulerProfile, Scorer } from "../../src/scheduling/framework/interfaces.ts";
import { runProfile } from "../../src/scheduling/framework/runner.ts";
import { PrefixIndex } from "../../src/scheduling/prefix/prefix-index.ts";
import { context, endpoint, fixedClock, request } from "./helpers.ts";

/**
 * Issue 19, twelfth pass: the runner adds each scorer's result into the totals as soon as
 * the call returns, so a scorer may hand back the same array every call (`Scorer.score`);
 * the queue and prefix-cache scorers do when the candidate count is the same.
 */
describe("scorers that reuse their result array", () => {
  const eps = [endpoint("a", { waitingQueueSize: 0 }), endpoint("b", { waitingQueueSize: 4 })];

  test("two scorers writing into one shared array: each is added before the next runs", () => {
    const shared = new Float64Array(2);
    const writes = (name: string, values: number[]): Scorer => ({
      type: "shared",
      name,
      score: () => {
        shared.set(values);
        return shared;
      },
    });
    const profile: SchedulerProfile = {
      name: "default",
      filters: [],
      scorers: [
        { scorer: writes("x", [1, 0]), weight: 2 },
        { scorer: writes("y", [0, 0.5]), weight: 3 },
      ],
      picker: maxScorePicker({ random: seededRandom(1), params: { maxNumOfEndpoints: 2 } }),
    };
    const want = [2, 1.5];
    for (const observe of [undefined, () => {}]) {
      const r = runProfile(context({ clock: fixedClock() }), profile, eps, observe);
      if (r.kind !== "picked") throw new Error(r.kind);
      expect(r.scored.map((s) => s.score)).toEqual(want);
    }
  });

  test("queue-scorer: the same array for the same candidate count, right values each call", () => {
    const scorer = queueScorer();
    const first = scorer.score(context(), eps);
    expect(Array.from(first as Float64Array)).toEqual([1, 0]);
    const swapped = scorer.score(context(), [eps[1]!, eps[0]!]);
    expect(swapped).toBe(first);
    expect(Array.from(swapped as Float64Array)).toEqual([0, 1]);
    const three = scorer.score(context(), [...eps, endpoint("c", { waitingQueueSize: 2 })]);
    expect(three).not.toBe(first);
    expect(Array.from(three as Float64Array)).toEqual([1, 0, 0.5]);
  });

  test("prefix-cache-scorer: a reused array is zeroed when nothing matches", () => {
    const index = new PrefixIndex();
    const scorer = prefixCacheScorer({ index });
    const prompt = "a prompt long enough to fill a few blocks of the prefix index. ".repeat(8);
    const ctx = () => context({ request: request({ prompt }) });
    const pods: readonly Endpoint[] = [endpoint("p0"), endpoint("p1")];
    const d = ctx();
    scorer.score(d, pods);
    scorer.preRequest?.(d, [pods[0]!]);
    const hit = scorer.score(ctx(), pods) as Float64Array;
    expect(hit[0]).toBeGreaterThan(0);
    expect(hit[1]).toBe(0);
    // A prompt with no full block: the same array, all zeros (not the last call's scores).
    const none = scorer.score(context({ request: request({ prompt: "hi" }) }), pods);
    expect(none).toBe(hit);
    expect(Array.from(none as Float64Array)).toEqual([0, 0]);
  });
});
