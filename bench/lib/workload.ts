/**
 * Request bodies for the scheduling benchmarks, shaped like the published prefix-cache
 * benchmarks (inference-perf's "shared prefix" data: groups sharing a long system prompt,
 * several users per group asking shorter questions), plus a control without shared
 * prefixes. Every body is drawn from the load generator's seeded Random, so two runs with
 * the same seed send the same requests in the same order.
 */
import { type Random, seededRandom } from "../../src/clock.ts";

/** ASCII pseudo-text of exactly `chars` characters (words of base-36 digits). */
export function text(random: Random, chars: number): string {
  let s = "";
  while (s.length < chars)
    s += `${random()
      .toString(36)
      .slice(2, 8 + Math.floor(random() * 4))} `;
  return s.slice(0, chars);
}

const between = (random: Random, [lo, hi]: readonly [number, number]) =>
  lo + Math.floor(random() * (hi - lo + 1));

export interface SharedPrefixWorkload {
  groups: number;
  usersPerGroup: number;
  /** Characters of each group's system prompt (4 characters = 1 simulated token). */
  systemChars: number;
  questionChars: readonly [number, number];
  /** Characters of the (client-made) assistant answers carried in the history. */
  answerChars: number;
  /** Turns per conversation; after the last, the user starts a new conversation. 1 = single turn. */
  maxTurns: number;
  maxTokens: number;
}

export type BodyFn = ((i: number, random: Random) => Record<string, unknown>) & {
  /** The group of the i-th body built, for workloads with groups. */
  groups?: number[];
};

/**
 * Each request: a uniformly random group and user; the user's conversation so far
 * (system prompt, earlier questions and answers) plus a new question.
 */
export function sharedPrefixBodies(w: SharedPrefixWorkload, model: string): BodyFn {
  const systems = Array.from({ length: w.groups }, (_, g) => {
    const r = seededRandom(1_000 + g);
    return `You are the assistant of team ${g}. ${text(r, w.systemChars - 30)}`.slice(0, w.systemChars);
  });
  const history: { q: string; a: string }[][][] = systems.map(() =>
    Array.from({ length: w.usersPerGroup }, () => []),
  );
  const groups: number[] = [];
  const fn: BodyFn = (i, random) => {
    const g = Math.floor(random() * w.groups);
    groups[i] = g;
    const u = Math.floor(random() * w.usersPerGroup);
    let turns = history[g]![u]!;
    if (turns.length >= w.maxTurns) {
      turns = [];
      history[g]![u] = turns;
    }
    const q = text(random, between(random, w.questionChars));
    const messages: { role: string; content: string }[] = [{ role: "system", content: systems[g]! }];
    for (const t of turns) messages.push({ role: "user", content: t.q }, { role: "assistant", content: t.a });
    messages.push({ role: "user", content: q });
    turns.push({ q, a: text(random, w.answerChars) });
    return { model, max_tokens: w.maxTokens, messages };
  };
  fn.groups = groups;
  return fn;
}

/** The control: the same sizes, but every prompt is unique (nothing to share). */
export function uniqueBodies(w: SharedPrefixWorkload, model: string): BodyFn {
  return (_i, random) => ({
    model,
    max_tokens: w.maxTokens,
    messages: [
      { role: "system", content: text(random, w.systemChars) },
      { role: "user", content: text(random, between(random, w.questionChars)) },
    ],
  });
}
