/**
 * One rule, compiled for weighted picks: share_i = w_i / sum(w), an unweighted target
 * weighs 1 (so all-unweighted is uniform). Cumulative weights are precomputed; a pick
 * draws x = random() * sum exactly once and binary-searches the first cumulative > x.
 */
import type { Random } from "../clock.ts";
import type { InferenceModelRewrite, RewriteRule } from "./schema.ts";

/** The outcome of one resolve; the same frozen object is returned for the same target. */
export interface RewriteDecision {
  /** `metadata.name` of the resource whose rule won. */
  readonly rewriteName: string;
  /** Index of the winning rule in `spec.rules`. */
  readonly ruleIndex: number;
  /** The model name to send upstream. */
  readonly targetModel: string;
}

export interface CompiledRule {
  readonly decisions: readonly RewriteDecision[];
  /** cumulative[i] = w_0 + ... + w_i; the last entry is the total. */
  readonly cumulative: readonly number[];
  readonly doc: InferenceModelRewrite;
}

export function compile(doc: InferenceModelRewrite, rule: RewriteRule, ruleIndex: number): CompiledRule {
  let sum = 0;
  const cumulative = rule.targets.map((t) => (sum += t.weight ?? 1));
  const decisions = rule.targets.map((t) =>
    Object.freeze({ rewriteName: doc.metadata.name, ruleIndex, targetModel: t.modelRewrite }),
  );
  return { decisions, cumulative, doc };
}

/** Index of the first cumulative weight > random() * total (one draw). */
export function pick(rule: CompiledRule, random: Random): RewriteDecision {
  const { cumulative, decisions } = rule;
  const x = random() * cumulative[cumulative.length - 1]!;
  let lo = 0;
  let hi = cumulative.length - 1; // clamps a faulty random() >= 1 to the last target
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cumulative[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return decisions[lo]!;
}
