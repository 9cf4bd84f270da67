import { RE2JS } from "re2js";
import type { Random } from "../clock.ts";
import { ConfigError } from "../config/errors.ts";
import type { AigwConfig, CompiledRule, HeaderTest, RuleBackend } from "./types.ts";

/** The header a rule matches the body's model with (Envoy AI Gateway sets it from the body). */
export const MODEL_HEADER = "x-ai-eg-model";

/**
 * Compiles one `matches[].headers[]` entry. Exact compares the whole value; RegularExpression
 * must match the whole value, as Envoy's safe_regex does, and is compiled by RE2's own rules
 * (re2js, a port of RE2): the syntax upstream documents, and matching in time linear in the
 * header's length. A JavaScript RegExp would backtrack: a config pattern like `(a+)+$` and a
 * client's 40-character header would hold the event loop for hours. Syntax RE2 lacks
 * (backreferences, lookaround) is refused at load.
 */
export function headerTest(
  h: { type: "Exact" | "RegularExpression"; name: string; value: string },
  path: string,
): HeaderTest {
  const name = h.name.toLowerCase();
  if (h.type === "Exact") return { name, test: (value) => value === h.value };
  let re: RE2JS;
  try {
    re = RE2JS.compile(h.value);
  } catch (err) {
    throw new ConfigError({
      path: `${path}.value`,
      expected: `a regular expression in RE2 syntax, as Envoy uses (${err instanceof Error ? err.message : String(err)})`,
      received: JSON.stringify(h.value),
    });
  }
  return { name, test: (value) => re.testExact(value) };
}

/** What a rule is matched against. */
export interface MatchInput {
  readonly headers: Headers;
  /** The body's model: the `x-ai-eg-model` header whatever the client sent as that header. */
  readonly model: string;
}

/**
 * The rule whose match wins by the Gateway API's HTTPRoute precedence, as Envoy AI Gateway
 * matches (its rules become one HTTPRoute): among every match that accepts the request, the
 * one of a route naming the request's host exactly (longest first), then by a wildcard
 * (longest first), then of a route without hostnames; then the match with the most headers;
 * then the earlier rule in `config.rules` (route age, then namespace/name, then rule order).
 * A rule without matches accepts every request with no headers.
 */
export function matchRule(config: AigwConfig, input: MatchInput): CompiledRule | undefined {
  const host = (input.headers.get("host") ?? "").replace(/:\d+$/, "").toLowerCase();
  const value = (name: string) => (name === MODEL_HEADER ? input.model : input.headers.get(name));
  let best: { rule: CompiledRule; hostScore: number; headers: number } | undefined;
  for (const rule of config.rules) {
    const hostScore = hostScoreOf(rule.hostnames, host);
    if (hostScore < 0) continue;
    if (
      best &&
      (hostScore < best.hostScore || (hostScore === best.hostScore && maxHeaders(rule) <= best.headers))
    )
      continue;
    let headers = -1;
    if (rule.matches.length === 0) headers = 0;
    for (const tests of rule.matches)
      if (
        tests.length > headers &&
        tests.every((t) => {
          const v = value(t.name);
          return v !== null && t.test(v);
        })
      )
        headers = tests.length;
    if (headers < 0) continue;
    if (!best || hostScore > best.hostScore || headers > best.headers) best = { rule, hostScore, headers };
  }
  return best?.rule;
}

function maxHeaders(rule: CompiledRule): number {
  let n = 0;
  for (const m of rule.matches) n = Math.max(n, m.length);
  return n;
}

/**
 * How specifically a route's hostnames name the request's host: an exact name scores above
 * any wildcard, a longer one above a shorter; no hostnames scores 0; -1 when none matches.
 */
function hostScoreOf(hostnames: readonly string[], host: string): number {
  if (hostnames.length === 0) return 0;
  let score = -1;
  for (const pattern of hostnames) {
    const p = pattern.toLowerCase();
    if (p.startsWith("*.")) {
      if (host.endsWith(p.slice(1)) && host.length > p.length - 1) score = Math.max(score, p.length);
    } else if (host === p) score = Math.max(score, 1_000_000 + p.length);
  }
  return score;
}

/**
 * The order a rule's backends are tried in: priority levels from 0 up (Envoy's priority
 * fallback); within a level, a weighted random order (Gateway API weights; weight 0 takes
 * no traffic). Backends `down` says are out (passive health) go behind every other one, so
 * they are tried only when nothing else answered.
 */
export function backendOrder(
  rule: CompiledRule,
  random: Random,
  down: (b: RuleBackend) => boolean = () => false,
): RuleBackend[] {
  const levels = [...new Set(rule.backends.map((b) => b.priority))].sort((a, b) => a - b);
  const ordered = levels.flatMap((level) =>
    weightedShuffle(
      rule.backends.filter((b) => b.priority === level && b.weight > 0),
      random,
    ),
  );
  // As Envoy's priority load: a level whose backends are out sends its traffic to the next.
  return [...ordered.filter((b) => !down(b)), ...ordered.filter(down)];
}

function weightedShuffle(items: RuleBackend[], random: Random): RuleBackend[] {
  const left = [...items];
  const out: RuleBackend[] = [];
  while (left.length > 0) {
    const total = left.reduce((s, b) => s + b.weight, 0);
    let r = random() * total;
    let i = 0;
    while (i < left.length - 1 && r >= left[i]!.weight) r -= left[i++]!.weight;
    out.push(left.splice(i, 1)[0]!);
  }
  return out;
}
