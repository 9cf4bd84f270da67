import type { Endpoint } from "../../endpoints/types.ts";
import type {
  PluginIdentity,
  ProfileResult,
  SchedulerProfile,
  SchedulingContext,
  ScoredEndpoint,
  ScoreResult,
} from "./interfaces.ts";

/** Upstream's extension point names, the `extension_point` label of the plugin duration histogram. */
export type ExtensionPoint =
  | "Filter"
  | "Scorer"
  | "Picker"
  | "PreRequest"
  | "ResponseReceived"
  | "ResponseStreaming"
  | "ResponseComplete";

/** Receives every plugin call's duration (e.g. `inference_extension_plugin_duration_seconds`). */
export type PluginObserver = (
  extensionPoint: ExtensionPoint,
  pluginType: string,
  pluginName: string,
  seconds: number,
) => void;

/** Clamps a raw score to [0, 1]; undefined and NaN count as 0. */
export function clamp01(x: number | undefined): number {
  if (x === undefined || !(x > 0)) return 0;
  return x > 1 ? 1 : x;
}

/** Adds `clamp01(score) x weight` of each endpoint to `totals` (a Map result by endpoint, else by position). */
function addScores(
  totals: Float64Array,
  result: ScoreResult,
  endpoints: readonly Endpoint[],
  weight: number,
): void {
  if (result instanceof Map) {
    const byEndpoint = result as ReadonlyMap<Endpoint, number>;
    for (let i = 0; i < totals.length; i++) totals[i]! += clamp01(byEndpoint.get(endpoints[i]!)) * weight;
    return;
  }
  const list = result as ArrayLike<number | undefined>;
  for (let i = 0; i < totals.length; i++) totals[i]! += clamp01(list[i]) * weight;
}

/** Runs `fn`, reporting its duration for `plugin` when an observer is set. */
export function timed<T>(
  ctx: SchedulingContext,
  observe: PluginObserver | undefined,
  point: ExtensionPoint,
  plugin: PluginIdentity,
  fn: () => T,
): T {
  if (observe === undefined) return fn();
  const t0 = ctx.clock.now();
  try {
    return fn();
  } finally {
    observe(point, plugin.type, plugin.name, (ctx.clock.now() - t0) / 1000);
  }
}

/**
 * One profile on one request: filters in order, then the weighted sum of clamped
 * scores, then the picker. Empty candidates -> `no-endpoints`; filters (or the picker)
 * leaving nothing -> `saturated`.
 */
export function runProfile(
  ctx: SchedulingContext,
  profile: SchedulerProfile,
  candidates: readonly Endpoint[],
  observe?: PluginObserver,
): ProfileResult {
  if (candidates.length === 0) return { kind: "no-endpoints" };
  let endpoints = candidates;
  for (const f of profile.filters) {
    const input = endpoints;
    endpoints = timed(ctx, observe, "Filter", f, () => f.filter(ctx, input));
    if (endpoints.length === 0) return { kind: "saturated", profile: profile.name };
  }
  const totals = new Float64Array(endpoints.length);
  for (const { scorer, weight } of profile.scorers) {
    const input = endpoints;
    const result =
      observe === undefined
        ? scorer.score(ctx, input)
        : timed(ctx, observe, "Scorer", scorer, () => scorer.score(ctx, input));
    addScores(totals, result, input, weight);
  }
  const scored = new Array<ScoredEndpoint>(endpoints.length);
  for (let i = 0; i < scored.length; i++) scored[i] = { endpoint: endpoints[i]!, score: totals[i]! };
  const picked = timed(ctx, observe, "Picker", profile.picker, () => profile.picker.pick(ctx, scored));
  if (picked.length === 0) return { kind: "saturated", profile: profile.name };
  return { kind: "picked", profile: profile.name, endpoints: picked, scored };
}
