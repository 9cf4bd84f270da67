/**
 * Usage-limit policies (llm-d v0.10, `flowControl.usageLimitPolicyPluginRef`): a dispatch
 * ceiling per priority. This gateway applies ceilings per endpoint and per band (a band
 * dispatches only to endpoints whose saturation score is below its `ceiling`), fixed at
 * start-up over the bands listed in `priorityBands`, so a policy becomes static ceilings:
 *
 * - priority-holdback-policy: `domain: rank` (default) c_i = maxCeiling - i (maxCeiling -
 *   minCeiling) / (N - 1), i = 0 for the highest listed priority; `domain: value`
 *   c = minCeiling + (p - pMin) / (pMax - pMin) (maxCeiling - minCeiling); `domain:
 *   explicit` takes `ceilings` as given. Unlisted priorities get minCeiling (0 for
 *   explicit, as upstream), or maxCeiling when fewer than two bands are listed. Parameters:
 *   `shape` (`linear`), `domain`, `minCeiling` (required unless explicit), `maxCeiling` (1.0),
 *   `ceilings` (explicit only).
 * - soft-reflective-ceiling-policy: gates bands per dispatch call (one dispatch pass: run
 *   on arrival, completion, metrics refresh, endpoint change), from the pool saturation s
 *   and the N configured and active bands ranked i = 0 (highest) .. N-1: band i's
 *   reflective ceiling is 1 - i s / (N - 1); below it the band is open; at s >= 1 every
 *   band but the highest is closed; otherwise it is open once every round(s / (1 - s))
 *   calls (its own call counter), for one request (an upstream call dispatches one). The highest band is never gated; with one band nothing
 *   is. Static ceilings stay 1 (the per-endpoint room rule still applies). No parameters.
 * - static-usage-limit-policy: one ceiling for every band: `ceiling` (1.0).
 */
import * as v from "valibot";
import type { UsageGate } from "../../src/flow/control/index.ts";
import { pluginName, pluginParams } from "../../src/flow/control/params.ts";
import type { PluginSpec } from "../../src/flow/control/types.ts";

/** Ceilings by priority for the listed priorities, plus the one for unlisted priorities. */
export interface UsageLimitCeilings {
  readonly byPriority: ReadonlyMap<number, number>;
  readonly unlisted: number;
  /** A start-up line when the policy is applied differently from upstream. */
  readonly note?: string;
}

export interface UsageLimitPolicy {
  readonly type: string;
  readonly name: string;
  ceilings(priorities: readonly number[]): UsageLimitCeilings;
  /** A fresh per-dispatch-call gate (its own call counters) for one flow controller. */
  gate?(): UsageGate;
}

const Fraction = v.pipe(v.number(), v.minValue(0), v.maxValue(1));

const HoldbackParams = v.pipe(
  v.strictObject({
    shape: v.optional(v.picklist(["linear"]), "linear"),
    domain: v.optional(v.picklist(["rank", "value", "explicit"]), "rank"),
    minCeiling: v.optional(Fraction),
    maxCeiling: v.optional(Fraction),
    ceilings: v.optional(v.record(v.string(), Fraction)),
  }),
  v.check(
    (p) => (p.domain === "explicit" ? p.ceilings !== undefined : p.minCeiling !== undefined),
    "minCeiling for the rank and value domains, ceilings for the explicit domain",
  ),
);

function priorityHoldback(spec: PluginSpec): UsageLimitPolicy {
  const p = pluginParams(HoldbackParams, spec);
  const max = p.maxCeiling ?? 1;
  const min = p.minCeiling ?? 0;
  return {
    type: "priority-holdback-policy",
    name: pluginName(spec),
    ceilings(priorities) {
      const sorted = [...new Set(priorities)].sort((a, b) => b - a);
      const byPriority = new Map<number, number>();
      if (p.domain === "explicit") {
        for (const [k, c] of Object.entries(p.ceilings ?? {})) byPriority.set(Number(k), c);
        return { byPriority, unlisted: 0 };
      }
      const n = sorted.length;
      const hi = sorted[0] ?? 0;
      const lo = sorted[n - 1] ?? 0;
      sorted.forEach((prio, i) => {
        const c =
          n < 2
            ? max
            : p.domain === "rank"
              ? max - (i * (max - min)) / (n - 1)
              : min + ((prio - lo) / (hi - lo)) * (max - min);
        byPriority.set(prio, c);
      });
      return { byPriority, unlisted: n < 2 ? max : min };
    },
  };
}

function softReflectiveCeiling(spec: PluginSpec): UsageLimitPolicy {
  pluginParams(v.strictObject({}), spec);
  return {
    type: "soft-reflective-ceiling-policy",
    name: pluginName(spec),
    ceilings: () => ({ byPriority: new Map(), unlisted: 1 }),
    gate: softReflectiveGate,
  };
}

/** See the file comment; `ticks[i]` counts the calls band rank i spent past its ceiling. */
export function softReflectiveGate(): UsageGate {
  const ticks: number[] = [];
  return (priorities, s) => {
    const gated = new Map<number, number>();
    const n = priorities.length;
    for (let i = 1; i < n; i++) {
      if (s < 1 - (i * s) / (n - 1)) continue;
      if (s >= 1) {
        gated.set(priorities[i]!, 0);
        continue;
      }
      const period = Math.max(1, Math.round(s / (1 - s)));
      const t = ticks[i] ?? 0;
      ticks[i] = (t + 1) % period;
      gated.set(priorities[i]!, t === 0 ? 1 : 0);
    }
    return gated;
  };
}

function staticUsageLimit(spec: PluginSpec): UsageLimitPolicy {
  const { ceiling } = pluginParams(v.strictObject({ ceiling: v.optional(Fraction, 1) }), spec);
  return {
    type: "static-usage-limit-policy",
    name: pluginName(spec),
    ceilings: () => ({ byPriority: new Map(), unlisted: ceiling }),
  };
}

export const USAGE_LIMIT_POLICIES: Readonly<Record<string, (spec: PluginSpec) => UsageLimitPolicy>> = {
  "priority-holdback-policy": priorityHoldback,
  "soft-reflective-ceiling-policy": softReflectiveCeiling,
  "static-usage-limit-policy": staticUsageLimit,
};
