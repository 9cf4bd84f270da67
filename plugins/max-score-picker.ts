/**
 * max-score-picker: the highest total score first; ties broken at random, or, for
 * requests with a prompt block, by rendezvous hashing so that replicas agree.
 *
 * Order: endpoints by descending total score, exact ties in random order (injected
 * Random). Then, when `rendezvous` is on and the prompt has at least one full block,
 * the group of endpoints whose total is within `tieEpsilon` of the best is reordered by
 * rendezvous weight of (first block hash, endpoint name) (src/scheduling/prefix/
 * rendezvous.ts). Two gateway replicas that never talk then send the same new prefix to
 * the same pod, while a pod that is measurably busier (total more than tieEpsilon below
 * the best) still loses. Returns the first `maxNumOfEndpoints` (primary, then fallbacks).
 *
 * tieEpsilon is in total-score units (sum of clamp01(score) x weight). Default 0.05:
 * under the default weights (max total 7) that is ~0.7% of the range - a 2.5-point KV
 * usage difference at weight 2, or one queued request in a spread of 40 - small enough
 * that load still decides, large enough to absorb scrape jitter between replicas.
 * The key is the first 64-character block (fixed, whatever the prefix scorer's block
 * size), so every replica derives the same key.
 *
 * A prefix no candidate holds yet (NEW_PREFIX, set by the prefix-cache scorer) gets the
 * wider band `newPrefixTieEpsilon` (default 1.0, one seventh of the default range): a
 * replica that never saw the prefix scores pods by load alone, and replicas' load views
 * differ by more than 0.05, so without a wider band each would place the prefix on a
 * different pod. Measured (bench/replicas.ts): three replicas reach ~90 % or more of one
 * replica's pod cache hit rate this way (93-97 %), against ~62 % with 0.05 alone. Known
 * prefixes keep the narrow band, so load decides among pods that hold them equally.
 *
 * The price: on traffic whose prompts share nothing, every request is a new prefix and
 * is placed by hash among pods up to 1.0 apart, which measured up to 1.19x load-only's
 * TTFT p90 at low rates (bench/results/scheduling-quality.md). Set
 * `newPrefixTieEpsilon: 0.05` for such pools (measured 1.01x). Gating the band by load
 * (effective or scraped) was tried and lost the replicas' agreement (58-70 %): replicas'
 * load views differ at any instant, which is exactly what the hash must not depend on.
 *
 * Parameters: `maxNumOfEndpoints` (1), `tieEpsilon` (0.05), `newPrefixTieEpsilon` (1.0),
 * `rendezvous` (true).
 */
import * as v from "valibot";
import type { Random } from "../src/clock.ts";
import { NEW_PREFIX, type Picker, type ScoredEndpoint } from "../src/scheduling/framework/interfaces.ts";
import { MaxNumOfEndpoints } from "../src/scheduling/framework/params.ts";
import { type PluginDefinition, withParameters } from "../src/scheduling/framework/registry.ts";
import { DEFAULT_BLOCK_CHARS } from "../src/scheduling/prefix/hashes.ts";
import { rendezvousOrder } from "../src/scheduling/prefix/rendezvous.ts";

export const MAX_SCORE_PICKER = "max-score-picker";

export const MaxScoreParameters = v.strictObject({
  maxNumOfEndpoints: MaxNumOfEndpoints,
  tieEpsilon: v.optional(v.pipe(v.number(), v.minValue(0, "a number >= 0")), 0.05),
  newPrefixTieEpsilon: v.optional(v.pipe(v.number(), v.minValue(0, "a number >= 0")), 1.0),
  rendezvous: v.optional(v.boolean(), true),
});
export type MaxScoreParameters = v.InferOutput<typeof MaxScoreParameters>;

export function maxScorePicker(opts: {
  name?: string;
  random: Random;
  params?: Partial<MaxScoreParameters>;
}): Picker {
  const p = { ...v.parse(MaxScoreParameters, {}), ...opts.params };
  const { random } = opts;
  return {
    type: MAX_SCORE_PICKER,
    name: opts.name ?? MAX_SCORE_PICKER,
    pick(ctx, scored) {
      const order = scored.map((s) => ({ s, tie: random() }));
      order.sort((a, b) => b.s.score - a.s.score || a.tie - b.tie);
      let head: ScoredEndpoint[] = order.map((o) => o.s);
      if (p.rendezvous && head.length > 1) {
        const best = head[0]!.score;
        let group = 1;
        const epsilon = ctx.get(NEW_PREFIX) ? p.newPrefixTieEpsilon : p.tieEpsilon;
        while (group < head.length && head[group]!.score >= best - epsilon) group++;
        if (group > 1) {
          const key = ctx.prefixHashes(DEFAULT_BLOCK_CHARS, 1);
          if (key.count > 0) {
            const hrw = rendezvousOrder(head.slice(0, group), (s) => s.endpoint.name, {
              hi: key.words[0]!,
              lo: key.words[1]!,
            });
            head = hrw.concat(head.slice(group));
          }
        }
      }
      return head.slice(0, p.maxNumOfEndpoints).map((s) => s.endpoint);
    },
  };
}

export const maxScorePickerPlugin: PluginDefinition = {
  type: MAX_SCORE_PICKER,
  factory: withParameters(MaxScoreParameters, (name, params, deps) =>
    maxScorePicker({ name, random: deps.random, params }),
  ),
};
