import { describe, expect, test } from "bun:test";
import { maxScorePicker } from "../../plugins/max-score-picker.ts";
import { seededRandom } from "../../src/clock.ts";
import type { ScoredEndpoint } from "../../src/scheduling/framework/interfaces.ts";
import { rendezvousOrder } from "../../src/scheduling/prefix/rendezvous.ts";
import { context, endpoint, prompt, request } from "./helpers.ts";

/**
 * max-score-picker selects its few endpoints by linear passes; its documented order is
 * "descending total, exact ties by one random draw per endpoint, then the band within
 * tieEpsilon of the best reordered by rendezvous weight". These tests compute that order
 * the plain way (sort everything) from the same random draws and compare.
 */
function reference(scored: ScoredEndpoint[], seed: number, max: number, key?: { hi: number; lo: number }) {
  const random = seededRandom(seed);
  const order = scored.map((s) => ({ s, tie: random() }));
  order.sort((a, b) => b.s.score - a.s.score || a.tie - b.tie);
  let head = order.map((o) => o.s);
  if (key && head.length > 1) {
    const best = head[0]!.score;
    const band = head.filter((s) => s.score >= best - 0.05);
    head = rendezvousOrder(band, (s) => s.endpoint.name, key).concat(head.slice(band.length));
  }
  return head.slice(0, max).map((s) => s.endpoint.name);
}

describe("max-score-picker: the linear selection gives the sorted order", () => {
  test.each([
    { n: 2, max: 1 },
    { n: 7, max: 3 },
    { n: 64, max: 3 },
    { n: 64, max: 64 },
    { n: 100, max: 5 },
  ])("$n endpoints, maxNumOfEndpoints $max, without rendezvous (random ties)", ({ n, max }) => {
    for (let trial = 0; trial < 40; trial++) {
      const r = seededRandom(1000 + trial);
      // Few distinct values: many exact ties, which the random draws must order.
      const scored = Array.from({ length: n }, (_, i) => ({
        endpoint: endpoint(`e${i}`),
        score: Math.floor(r() * 4) / 2,
      }));
      const picker = maxScorePicker({
        random: seededRandom(trial),
        params: { maxNumOfEndpoints: max, rendezvous: false },
      });
      const got = picker.pick(context(), scored).map((e) => e.name);
      expect(got).toEqual(reference(scored, trial, max));
    }
  });

  test("with a prompt block (a known prefix): the near-tie band in rendezvous order, then the rest by score", () => {
    for (let trial = 0; trial < 40; trial++) {
      const r = seededRandom(2000 + trial);
      const scored = Array.from({ length: 16 }, (_, i) => ({
        endpoint: endpoint(`pod-${i}`),
        score: 1 + Math.floor(r() * 6) * 0.02,
      }));
      const ctx = context({ request: request({ prompt: prompt(trial, 200) }) });
      const first = ctx.prefixHashes(64, 1);
      const key = { hi: first.words[0]!, lo: first.words[1]! };
      const picker = maxScorePicker({ random: seededRandom(trial), params: { maxNumOfEndpoints: 4 } });
      const got = picker.pick(ctx, scored).map((e) => e.name);
      expect(got).toEqual(reference(scored, trial, 4, key));
    }
  });
});
