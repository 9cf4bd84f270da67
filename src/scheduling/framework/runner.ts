import type { Endpoint } from "../../endpoints/types.ts";
import type {
  Picker,
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

/**
 * Receives every plugin call's duration (e.g. `inference_extension_plugin_duration_seconds`).
 * It may also offer `recorder`: the same observation for one (point, type, name) resolved
 * once, which the scheduler then keeps per plugin, so a call costs no label lookup.
 */
export type PluginObserver = ((
  extensionPoint: ExtensionPoint,
  pluginType: string,
  pluginName: string,
  seconds: number,
) => void) & {
  recorder?: (extensionPoint: ExtensionPoint, pluginType: string, pluginName: string) => Recorder;
};

/** Takes one call's duration in seconds. */
export type Recorder = (seconds: number) => void;

/** The observer's recorder for one plugin at one extension point. */
export function recorderOf(observe: PluginObserver, point: ExtensionPoint, plugin: PluginIdentity): Recorder {
  if (observe.recorder) return observe.recorder(point, plugin.type, plugin.name);
  return (seconds) => observe(point, plugin.type, plugin.name, seconds);
}

/**
 * A profile's recorders, in the order of its filters and scorers, then the picker's, each
 * resolved at the plugin's first call (so the series appear in the order of first use, as
 * they did when every call looked its series up).
 */
interface ProfileRecorders {
  readonly observe: PluginObserver;
  readonly filters: (Recorder | undefined)[];
  readonly scorers: (Recorder | undefined)[];
  picker: Recorder | undefined;
}

/** `recorders[i]`, resolved for `plugin` on first use. */
export function slot(
  recorders: (Recorder | undefined)[],
  i: number,
  observe: PluginObserver,
  point: ExtensionPoint,
  plugin: PluginIdentity,
): Recorder {
  let r = recorders[i];
  if (r === undefined) {
    r = recorderOf(observe, point, plugin);
    recorders[i] = r;
  }
  return r;
}

const recordersByProfile = new WeakMap<SchedulerProfile, ProfileRecorders>();

/** The recorders of `profile` for `observe` (see `ProfileRecorders`). */
function recordersOf(profile: SchedulerProfile, observe: PluginObserver): ProfileRecorders {
  const known = recordersByProfile.get(profile);
  if (known !== undefined && known.observe === observe) return known;
  const made: ProfileRecorders = {
    observe,
    filters: new Array(profile.filters.length),
    scorers: new Array(profile.scorers.length),
    picker: undefined,
  };
  recordersByProfile.set(profile, made);
  return made;
}

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

/**
 * One profile on one request: filters in order, then the weighted sum of clamped
 * scores, then the picker. Empty candidates -> `no-endpoints`; filters (or the picker)
 * leaving nothing -> `saturated`.
 *
 * With an observer, each plugin call is timed by chained clock readings (the end of one
 * call is the start of the next: one reading per call instead of two). A scorer's window
 * also holds the weighting of its own scores into the totals (a multiply-add per endpoint),
 * so the picker's starts at the last scorer's end (issue 19, twelfth pass: one reading a
 * profile fewer); the first call's starts at `timing.start` when the caller just read the
 * clock (the decision's start).
 */
export function runProfile(
  ctx: SchedulingContext,
  profile: SchedulerProfile,
  candidates: readonly Endpoint[],
  observe?: PluginObserver,
  timing?: ProfileTiming,
): ProfileResult {
  if (candidates.length === 0) return { kind: "no-endpoints" };
  if (observe !== undefined) return runTimed(ctx, profile, candidates, recordersOf(profile, observe), timing);
  let endpoints = candidates;
  for (const f of profile.filters) {
    endpoints = f.filter(ctx, endpoints);
    if (endpoints.length === 0) return { kind: "saturated", profile: profile.name };
  }
  const totals = new Float64Array(endpoints.length);
  for (const { scorer, weight } of profile.scorers)
    addScores(totals, scorer.score(ctx, endpoints), endpoints, weight);
  return pickFrom(ctx, profile, endpoints, totals, undefined);
}

/**
 * Where a timed run leaves its last clock reading (the end of its last plugin call), for a
 * caller that would otherwise read the clock again at once: the scheduler ends a held
 * decision's profiles with it (issue 19, tenth pass). Untouched by an untimed run.
 */
export interface ProfileTiming {
  end: number;
  /**
   * A clock reading the caller took just before running the profiles (the decision's
   * start), which then also starts the first timed profile's first plugin call; taken
   * (set to NaN) by that profile, so a handler's later profiles read their own. NaN: none.
   */
  start: number;
}

/** `runProfile` with every plugin call timed (see there). */
function runTimed(
  ctx: SchedulingContext,
  profile: SchedulerProfile,
  candidates: readonly Endpoint[],
  rec: ProfileRecorders,
  timing: ProfileTiming | undefined,
): ProfileResult {
  const clock = ctx.clock;
  let t: number;
  if (timing !== undefined && !Number.isNaN(timing.start)) {
    t = timing.start;
    timing.start = Number.NaN;
  } else t = clock.now();
  let endpoints = candidates;
  for (let i = 0; i < profile.filters.length; i++) {
    try {
      endpoints = profile.filters[i]!.filter(ctx, endpoints);
    } finally {
      const t1 = clock.now();
      slot(rec.filters, i, rec.observe, "Filter", profile.filters[i]!)((t1 - t) / 1000);
      t = t1;
    }
    if (endpoints.length === 0) {
      if (timing !== undefined) timing.end = t;
      return { kind: "saturated", profile: profile.name };
    }
  }
  const scorers = profile.scorers;
  const totals = new Float64Array(endpoints.length);
  for (let i = 0; i < scorers.length; i++) {
    const { scorer, weight } = scorers[i]!;
    try {
      // Added in the scorer's own window, in scorer order (the same sums as adding after the last).
      addScores(totals, scorer.score(ctx, endpoints), endpoints, weight);
    } finally {
      const t1 = clock.now();
      slot(rec.scorers, i, rec.observe, "Scorer", scorer)((t1 - t) / 1000);
      t = t1;
    }
  }
  return pickFrom(ctx, profile, endpoints, totals, rec, timing, t);
}

/**
 * The picker over the scored endpoints (timed when `rec` is given: from `start`, the last
 * scorer's end, to its return; from a reading of its own for a picker without `pickScores`,
 * whose ScoredEndpoint list is made first).
 */
function pickFrom(
  ctx: SchedulingContext,
  profile: SchedulerProfile,
  endpoints: readonly Endpoint[],
  totals: Float64Array,
  rec: ProfileRecorders | undefined,
  timing?: ProfileTiming,
  start = 0,
): ProfileResult {
  const picker = profile.picker as ScorePicker;
  // A picker that reads the totals column gets no ScoredEndpoint per endpoint (issue 19,
  // eighth pass): `scored` is then made only if someone reads it (see Picked).
  const scored = picker.pickScores === undefined ? scoredOf(endpoints, totals) : undefined;
  let picked: readonly Endpoint[];
  if (rec === undefined)
    picked = scored === undefined ? picker.pickScores!(ctx, endpoints, totals) : picker.pick(ctx, scored);
  else {
    // A picker that takes ScoredEndpoints gets its window from here: making its list is ours.
    const t0 = scored === undefined ? start : ctx.clock.now();
    try {
      picked = scored === undefined ? picker.pickScores!(ctx, endpoints, totals) : picker.pick(ctx, scored);
    } finally {
      rec.picker ??= recorderOf(rec.observe, "Picker", profile.picker);
      const t1 = ctx.clock.now();
      rec.picker((t1 - t0) / 1000);
      if (timing !== undefined) timing.end = t1;
    }
  }
  if (picked.length === 0) return { kind: "saturated", profile: profile.name };
  return new Picked(profile.name, picked, endpoints, totals, scored);
}

/**
 * A picker that may also pick from the endpoints and their totals (one column, in the
 * same order as `pick`'s ScoredEndpoints, the same answer): the runner then makes no object
 * per endpoint. `pick` stays for callers that hold ScoredEndpoints.
 */
export interface ScorePicker extends Picker {
  pickScores?(
    ctx: SchedulingContext,
    endpoints: readonly Endpoint[],
    totals: Float64Array,
  ): readonly Endpoint[];
}

function scoredOf(endpoints: readonly Endpoint[], totals: Float64Array): ScoredEndpoint[] {
  const scored = new Array<ScoredEndpoint>(endpoints.length);
  for (let i = 0; i < scored.length; i++) scored[i] = { endpoint: endpoints[i]!, score: totals[i]! };
  return scored;
}

/** A "picked" result whose `scored` list is made on first read (the request path never reads it). */
class Picked {
  readonly kind = "picked" as const;
  constructor(
    readonly profile: string,
    readonly endpoints: readonly Endpoint[],
    private readonly candidates: readonly Endpoint[],
    private readonly totals: Float64Array,
    private list: readonly ScoredEndpoint[] | undefined,
  ) {}

  /** Every endpoint that passed the filters, with its total, in filter order. */
  get scored(): readonly ScoredEndpoint[] {
    this.list ??= scoredOf(this.candidates, this.totals);
    return this.list;
  }
}
