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
 * - soft-reflective-ceiling-policy: its ceilings move with saturation on every dispatch
 *   call, which a fixed ceiling cannot follow; accepted, every band keeps ceiling 1 and
 *   strict priority still serves higher bands first. Takes no parameters.
 * - static-usage-limit-policy: one ceiling for every band: `ceiling` (1.0).
 */
import * as v from "valibot";
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
    ceilings: () => ({
      byPriority: new Map(),
      unlisted: 1,
      note: "soft-reflective-ceiling-policy: its saturation-driven gating is not run; every band keeps ceiling 1 and strict priority serves higher bands first",
    }),
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
