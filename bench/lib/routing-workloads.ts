/**
 * Request bodies for the routing benchmark (bench/scheduling-quality.ts). Every body is
 * drawn from the load generator's seeded Random, so runs with the same seed send the
 * same requests in the same order.
 *
 * - shared: `groups` system prompts of `systemChars`, each request one of them (uniform,
 *   or `hotShare` of the traffic on group 0) plus a question of 200-600 characters;
 * - preamble: the same, every system prompt opening with the same `preambleChars`;
 * - unique: `uniqueChars` characters nobody else sends.
 */
import type { Random } from "../../src/clock.ts";
import { seededRandom } from "../../src/clock.ts";
import { text } from "./workload.ts";

export type Body = (i: number, random: Random) => Record<string, unknown>;

export interface SharedOptions {
  model: string;
  groups: number;
  systemChars: number;
  /** Share of the requests that go to group 0 (default: uniform). */
  hotShare?: number;
  /** Characters every system prompt starts with (default 0). */
  preambleChars?: number;
}

export function sharedBodies(o: SharedOptions): Body {
  const preamble = text(seededRandom(7), o.preambleChars ?? 0);
  const systems = Array.from({ length: o.groups }, (_, g) =>
    (preamble + text(seededRandom(1000 + g), o.systemChars)).slice(0, o.systemChars),
  );
  return (_i, random) => {
    const hot = o.hotShare !== undefined && random() < o.hotShare;
    const g = hot ? 0 : Math.floor(random() * o.groups);
    const question = text(random, 200 + Math.floor(random() * 401));
    return {
      model: o.model,
      messages: [
        { role: "system", content: systems[g]! },
        { role: "user", content: question },
      ],
    };
  };
}

export function uniqueBodies(o: { model: string; uniqueChars: number }): Body {
  return (_i, random) => ({
    model: o.model,
    messages: [{ role: "user", content: text(random, o.uniqueChars) }],
  });
}
