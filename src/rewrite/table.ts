/**
 * The rewrite table: client model name -> one weighted target, in O(1) per request.
 *
 * Precedence (GIE InferenceModelRewrite), resolved once at build time:
 *  1. an Exact match beats a generic rule (a rule with no `matches`), whatever the resource;
 *  2. across resources the oldest `metadata.creationTimestamp` wins. Resources without a
 *     timestamp (typical for file config) rank after every timestamped one. Remaining ties
 *     (equal or missing timestamps) go to document order, which is total, so the result
 *     never depends on sort stability or Map iteration;
 *  3. within one resource, the first matching rule in list order wins.
 * So `resolve` is one Map lookup (exact) or one field read (generic), then one pick.
 *
 * Split: see `weighted.ts` (one random() draw per matched resolve).
 *
 * The table does not look at `spec.poolRef`: pass the resources of one pool.
 */
import type { Random } from "../clock.ts";
import type { InferenceModelRewrite } from "./schema.ts";
import { checkRewrite, failAt } from "./validate.ts";
import { type CompiledRule, compile, pick, type RewriteDecision } from "./weighted.ts";

export type { RewriteDecision } from "./weighted.ts";

/** A model name a client may ask for (an Exact match), with the resource that wins it. */
export interface RewriteAlias {
  model: string;
  rewriteName: string;
  creationTimestamp?: string;
  /** Target models of the winning rule, in rule order. */
  targets: string[];
  /** Each target's share of requests (weight / sum of weights), parallel to `targets`. */
  shares: number[];
}

/** Checks every document and orders them by precedence rule 2 (oldest first). */
function rank(docs: readonly InferenceModelRewrite[]): InferenceModelRewrite[] {
  const seen = new Set<string>();
  const keyed = docs.map((doc, index) => {
    checkRewrite(doc);
    const id = `${doc.metadata.namespace}/${doc.metadata.name}`;
    if (seen.has(id)) {
      failAt(doc, { path: "metadata.name", expected: "a name unique within its namespace (defined twice)" });
    }
    seen.add(id);
    const stamp = doc.metadata.creationTimestamp;
    const ts = stamp === undefined ? Number.POSITIVE_INFINITY : Date.parse(stamp);
    if (Number.isNaN(ts)) {
      failAt(doc, { path: "metadata.creationTimestamp", expected: "an RFC 3339 timestamp", received: stamp });
    }
    return { doc, index, ts };
  });
  keyed.sort((a, b) => (a.ts === b.ts ? a.index - b.index : a.ts < b.ts ? -1 : 1)); // Infinity = untimed
  return keyed.map((k) => k.doc);
}

export class RewriteTable {
  readonly #exact: ReadonlyMap<string, CompiledRule>;
  readonly #generic: CompiledRule | undefined;
  readonly #targets: ReadonlySet<string>;

  private constructor(exact: Map<string, CompiledRule>, generic: CompiledRule | undefined) {
    this.#exact = exact;
    this.#generic = generic;
    const targets = new Set<string>();
    for (const rule of [...exact.values(), ...(generic ? [generic] : [])]) {
      for (const d of rule.decisions) targets.add(d.targetModel);
    }
    this.#targets = targets;
  }

  /** A table with no rules: every resolve is undefined. */
  static empty(): RewriteTable {
    return new RewriteTable(new Map(), undefined);
  }

  /**
   * Validates semantics (weights, empty targets, duplicate namespace/name, timestamps) and
   * precomputes the winner per exact model name plus the winning generic rule. Throws
   * ConfigError with a path such as `InferenceModelRewrite/opt-canary spec.rules[0].targets[1].weight`.
   */
  static build(docs: readonly InferenceModelRewrite[]): RewriteTable {
    const exact = new Map<string, CompiledRule>();
    let generic: CompiledRule | undefined;
    for (const doc of rank(docs)) {
      doc.spec.rules.forEach((rule, i) => {
        const matches = rule.matches ?? [];
        if (matches.length === 0) {
          generic ??= compile(doc, rule, i);
          return;
        }
        let compiled: CompiledRule | undefined;
        for (const m of matches) {
          if (exact.has(m.model.value)) continue; // an earlier resource or rule already owns it
          compiled ??= compile(doc, rule, i);
          exact.set(m.model.value, compiled);
        }
      });
    }
    return new RewriteTable(exact, generic);
  }

  /**
   * O(1): the winning rule for `model` (Exact first, then the generic rule) and one weighted
   * pick, calling `random` exactly once. undefined (and no draw) when no rule matches.
   */
  resolve(model: string, random: Random): RewriteDecision | undefined {
    const rule = this.#exact.get(model) ?? this.#generic;
    return rule ? pick(rule, random) : undefined;
  }

  /** How a rule matches `model`: by name, by the generic rule, or not at all (pool routing asks this). */
  match(model: string): "exact" | "generic" | undefined {
    if (this.#exact.has(model)) return "exact";
    return this.#generic ? "generic" : undefined;
  }

  /** Model names matched by Exact rules, in precedence order, each with its winning resource. */
  aliases(): readonly RewriteAlias[] {
    return [...this.#exact].map(([model, rule]) => {
      const { name, creationTimestamp } = rule.doc.metadata;
      const targets = rule.decisions.map((d) => d.targetModel);
      const total = rule.cumulative.at(-1) ?? 1;
      const shares = rule.cumulative.map((c, i) => (c - (rule.cumulative[i - 1] ?? 0)) / total);
      return creationTimestamp === undefined
        ? { model, rewriteName: name, targets, shares }
        : { model, rewriteName: name, creationTimestamp, targets, shares };
    });
  }

  /** Every target model a reachable rule can produce (rules fully shadowed by precedence are left out). */
  targets(): ReadonlySet<string> {
    return this.#targets;
  }
}
