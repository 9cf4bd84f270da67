/**
 * max-score-picker: the highest total score first; ties broken at random, or, for
 * requests with a prompt block, by rendezvous hashing so that replicas agree.
 *
 * Order: endpoints by descending total score, exact ties in random order (injected
 * Random). Then, when `rendezvous` is on and the prompt has at least one full block,
 * the band of endpoints whose total is within `tieEpsilon` of the best is reordered by
 * rendezvous weight of (key, endpoint name) (src/scheduling/prefix/rendezvous.ts). Two
 * gateway replicas that never talk then send the same prefix to the same pod, while a
 * pod that is measurably busier (total more than the band below the best) still loses.
 * Returns the first `maxNumOfEndpoints` (primary, then fallbacks).
 *
 * The key is the prompt's distinctive block (plugins/prefix-match.ts: the first block
 * most prompts seen do not share), so a preamble common to every prompt does not send
 * every group to one pod; without a prefix plugin in the profile, the first 64-character
 * block.
 *
 * tieEpsilon is in total-score units (sum of clamp01(score) x weight). Default 0.05:
 * under the default weights (max total 7) a 2.5-point KV usage difference at weight 2,
 * small enough that load still decides, large enough to absorb scrape jitter.
 *
 * A prefix no candidate holds (NEW_PREFIX: the distinctive block is nowhere) gets the
 * wider band `newPrefixTieEpsilon` (default 1.0): a replica that never saw the prefix
 * scores pods by load alone, and replicas' load views differ by more than 0.05, so with
 * the narrow band each would place the prefix on a different pod (bench/replicas.ts).
 * Within that band a pod is kept only when its prefill pending (uncached prompt tokens
 * this gateway sent whose answer has not started, from the prefix index) is below the
 * prompt's own tokens, or is the least of the band: a pod busy prefilling shows no queue
 * and little KV, and a new prompt hashed onto it would wait behind that prefill. Idle
 * pods have none pending, so replicas agree on them; when every pod is busy the one that
 * will start the prompt soonest wins, as load-only would pick.
 *
 * Recurring prefixes: pending prefill and the band's loads are this replica's own view
 * (its own requests in flight), so replicas that filter on them place one new prefix on
 * different pods, each then sticks to its own copy and the pods' caches hold two or three
 * copies of every group (bench:replicas, 16 req/s: 74 % of one gateway's hit rate). When
 * at least `recurringShare` of the last 32 requests with a prompt block found their prefix
 * held (prompts recur: a prefix is worth one place), a new prefix skips the pending filter
 * and gets the band `recurringTieEpsilon` (default 2.0: a pod with a queue or a fuller
 * cache still loses when the difference exceeds it), so replicas agree on the rendezvous
 * pod; when prompts do not recur (no agreement to win) the per-replica rule applies.
 * Only when other senders share the pods: this gateway's in-flight requests are under
 * OWN_SHARE_REPLICAS (3/4) of what the pods report running and waiting (a running mean
 * over the decisions). A lone gateway sees every pending prefill, keeps the filter, and
 * does not queue a new group behind another group's prefill (bench:quality, uniform
 * shared prompts at 24 req/s: p90 328 ms without the filter, 46 ms with it).
 *
 * Parameters: `maxNumOfEndpoints` (1), `tieEpsilon` (0.05), `newPrefixTieEpsilon` (1.0),
 * `rendezvous` (true), `recurringShare` (0.1; 0 = never), `recurringTieEpsilon` (2.0).
 */
import * as v from "valibot";
import type { Random } from "../src/clock.ts";
import type { Endpoint } from "../src/endpoints/types.ts";
import { madeLoads } from "../src/scheduling/framework/context.ts";
import { NEW_PREFIX, type SchedulingContext } from "../src/scheduling/framework/interfaces.ts";
import { MaxNumOfEndpoints } from "../src/scheduling/framework/params.ts";
import { type PluginDefinition, withParameters } from "../src/scheduling/framework/registry.ts";
import type { ScorePicker } from "../src/scheduling/framework/runner.ts";
import { DEFAULT_BLOCK_CHARS } from "../src/scheduling/prefix/hashes.ts";
import type { PrefixIndex } from "../src/scheduling/prefix/prefix-index.ts";
import { nameHash, rendezvousWeight } from "../src/scheduling/prefix/rendezvous.ts";
import { fmix64 } from "../src/scheduling/prefix/xxhash64.ts";
import { currentMatch } from "./prefix-match.ts";

export const MAX_SCORE_PICKER = "max-score-picker";

export const MaxScoreParameters = v.strictObject({
  maxNumOfEndpoints: MaxNumOfEndpoints,
  tieEpsilon: v.optional(v.pipe(v.number(), v.minValue(0, "a number >= 0")), 0.05),
  newPrefixTieEpsilon: v.optional(v.pipe(v.number(), v.minValue(0, "a number >= 0")), 1.0),
  rendezvous: v.optional(v.boolean(), true),
  recurringShare: v.optional(
    v.pipe(v.number(), v.minValue(0, "a number >= 0"), v.maxValue(1, "a share <= 1")),
    0.1,
  ),
  recurringTieEpsilon: v.optional(v.pipe(v.number(), v.minValue(0, "a number >= 0")), 2.0),
});
export type MaxScoreParameters = v.InferOutput<typeof MaxScoreParameters>;

export function maxScorePicker(opts: {
  name?: string;
  random: Random;
  params?: Partial<MaxScoreParameters>;
  /** The pool's prefix index: the prefill each endpoint has pending (new-prefix band). */
  index?: PrefixIndex;
}): ScorePicker {
  const p = { ...v.parse(MaxScoreParameters, {}), ...opts.params };
  const { random, index } = opts;
  const recurrence = recurrenceTracker();
  const ownShare = recurrenceTracker(64);
  // Scratch reused by every pick of this picker (picks are synchronous and never nested; the
  // arrays grow to the largest candidate list seen): no typed arrays, index lists or
  // comparison closures allocated per decision (issue 19, sixth pass). Entries past the
  // current decision's `n` are stale and never read.
  let score = new Float64Array(8);
  let tie = new Float64Array(8);
  let weight = new Float64Array(8);
  /** Each candidate's pending prefill (`splitPending`), by its position. */
  let pending = new Float64Array(8);
  let current: readonly Endpoint[] = NONE_ENDPOINTS;
  /** `pick`'s endpoints of its ScoredEndpoints, reused (`pickScores` takes the runner's array). */
  const unwrapped: Endpoint[] = [];
  const picked: number[] = [];
  const all: number[] = [];
  const band: number[] = [];
  const rest: number[] = [];
  const kept: number[] = [];
  const waits: number[] = [];
  const better = (i: number, j: number) =>
    score[i]! > score[j]! || (score[i] === score[j] && tie[i]! < tie[j]!);
  const heavier = (i: number, j: number) =>
    weight[i]! > weight[j]! || (weight[i] === weight[j] && current[i]!.name < current[j]!.name);
  const endpointsOf = (indices: readonly number[]) => {
    const out = new Array<Endpoint>(indices.length);
    for (let i = 0; i < indices.length; i++) out[i] = current[indices[i]!]!;
    return out;
  };
  const grow = (n: number) => {
    if (score.length >= n) return;
    score = new Float64Array(2 * n);
    tie = new Float64Array(2 * n);
    weight = new Float64Array(2 * n);
    pending = new Float64Array(2 * n);
  };
  /** `weight[i]` = rendezvousWeight(key, name of candidate i) for each i of `head`. */
  const weigh = (endpoints: readonly Endpoint[], head: readonly number[], keyHi: number, keyLo: number) => {
    const names = namesOf(endpoints);
    if (names === undefined) {
      for (const i of head) weight[i] = rendezvousWeight(keyHi, keyLo, endpoints[i]!.name);
      return;
    }
    const { hi, lo } = names;
    for (let h = 0; h < head.length; h++) {
      const i = head[h]!;
      weight[i] = fmix64((keyHi ^ hi[i]!) >>> 0, (keyLo ^ lo[i]!) >>> 0);
    }
  };
  /** Where `takePending` writes: the current candidates' positions by name. */
  let at: ReadonlyMap<string, number> | undefined;
  const takePending = (tokens: number, name: string) => {
    const i = at!.get(name);
    if (i !== undefined) pending[i] = tokens;
  };
  /**
   * The band's endpoints (indexes into the candidates) where the prompt would not wait
   * behind a prefill as long as its own: pending prefill (uncached prompt tokens sent,
   * answer not started) below the prompt's own uncached tokens, and always those with the
   * least pending, into `kept`; the others into `waits`, which rank after the band and
   * before the rest. A pod busy prefilling shows no queue and little KV, but a new prompt
   * sent there waits for that prefill; a few short prompts pending there cost little, and
   * leaving such pods in the band keeps replicas (which each see only their own pending)
   * agreeing on where a new prefix goes. Into the picker's own lists: nothing allocated
   * per decision (issue 19, twenty-fourth pass).
   */
  const splitPending = (endpoints: readonly Endpoint[], index: PrefixIndex, own: number) => {
    // Each candidate's pending prefill at its position: from the few endpoints with some
    // pending when the candidates' names are tabled (no lookup per candidate), else asked
    // per band member.
    const names = namesOf(endpoints);
    if (names !== undefined) {
      pending.fill(0, 0, endpoints.length);
      at = names.at;
      index.forEachPending(takePending);
      at = undefined;
    } else for (const i of band) pending[i] = index.pendingTokens(endpoints[i]!.name);
    let least = Number.POSITIVE_INFINITY;
    for (let b = 0; b < band.length; b++) {
      const x = pending[band[b]!]!;
      if (x < least) least = x;
    }
    kept.length = 0;
    waits.length = 0;
    for (let b = 0; b < band.length; b++) {
      const i = band[b]!;
      const x = pending[i]!;
      (x === least || x < own ? kept : waits).push(i);
    }
  };
  /** The pick over `endpoints` whose totals are already in `score[0..n)`. */
  function choose(ctx: SchedulingContext, endpoints: readonly Endpoint[]): readonly Endpoint[] {
    const n = endpoints.length;
    current = endpoints;
    picked.length = 0;
    // One tie-break draw per endpoint, in order, whatever is picked (seeded runs replay).
    for (let i = 0; i < n; i++) tie[i] = random();
    const isNew = ctx.get(NEW_PREFIX);
    const share = isNew === undefined ? recurrence.share() : recurrence.add(!isNew);
    let reported = 0;
    let own = 0;
    const made = madeLoads(ctx, endpoints);
    if (made !== undefined) {
      // The scorers' load columns of these endpoints (issue 19, eighth pass): no pass of its own.
      reported = made.reported;
      const inflight = made.inflight;
      for (let i = 0; i < n; i++) own += inflight[i]!;
    } else
      for (let i = 0; i < n; i++) {
        const e = endpoints[i]!;
        reported += e.metrics.runningRequests + e.metrics.waitingQueueSize;
        own += ctx.inflight.get(e.name); // ctx.load(e).inflight, without the rest of the load
      }
    const shared =
      (reported > 0 ? ownShare.add(Math.min(1, own / reported)) : ownShare.share()) < OWN_SHARE_REPLICAS;
    const k = Math.min(p.maxNumOfEndpoints, n);
    try {
      if (!p.rendezvous || n < 2) {
        all.length = n;
        for (let i = 0; i < n; i++) all[i] = i;
        topInto(picked, all, k, better);
        return endpointsOf(picked);
      }
      let best = 0;
      for (let i = 1; i < n; i++) if (better(i, best)) best = i;
      const fresh = isNew === true;
      const recurring = fresh && shared && p.recurringShare > 0 && share >= p.recurringShare;
      const epsilon = !fresh ? p.tieEpsilon : recurring ? p.recurringTieEpsilon : p.newPrefixTieEpsilon;
      // The band: every endpoint within epsilon of the best (the sorted order's head).
      band.length = 0;
      rest.length = 0;
      const floor = score[best]! - epsilon;
      for (let i = 0; i < n; i++) (score[i]! >= floor ? band : rest).push(i);
      let head: readonly number[] = band;
      let moved: readonly number[] = NONE;
      if (fresh && !recurring && index && band.length > 1) {
        splitPending(endpoints, index, currentMatch(ctx)?.promptTokens ?? 0);
        head = kept;
        moved = waits;
      }
      const key = head.length > 1 ? rendezvousKey(ctx) : undefined;
      if (key) {
        weigh(endpoints, head, key.hi, key.lo);
        topInto(picked, head, k, heavier);
      } else topInto(picked, head, k, better);
      topInto(picked, moved, k, better);
      topInto(picked, rest, k, better);
      return endpointsOf(picked);
    } finally {
      current = NONE_ENDPOINTS;
    }
  }
  return {
    type: MAX_SCORE_PICKER,
    name: opts.name ?? MAX_SCORE_PICKER,
    pick(ctx, scored) {
      const n = scored.length;
      grow(n);
      unwrapped.length = n;
      for (let i = 0; i < n; i++) {
        const s = scored[i]!;
        score[i] = s.score;
        unwrapped[i] = s.endpoint;
      }
      try {
        return choose(ctx, unwrapped);
      } finally {
        unwrapped.length = 0;
      }
    },
    pickScores(ctx, endpoints, totals) {
      const n = endpoints.length;
      grow(n);
      for (let i = 0; i < n; i++) score[i] = totals[i]!;
      return choose(ctx, endpoints);
    },
  };
}

/** A candidates array's name hashes and positions by name (see `namesOf`). */
interface CandidateNames {
  readonly hi: Uint32Array;
  readonly lo: Uint32Array;
  readonly at: ReadonlyMap<string, number>;
}

const tabled = new WeakMap<readonly Endpoint[], CandidateNames>();

/**
 * The names of a frozen candidates array, tabled once: each position's rendezvous name hash
 * and each name's position. A pool hands the same frozen array (its store's) decision after
 * decision until its endpoints change, so weighing a band and finding its pending prefill
 * read no endpoint object (issue 19, twenty-fourth pass: at 64 endpoints these per-candidate
 * reads were most of what a new prompt's pick grew by). An array that is not frozen may
 * change and is not tabled (undefined).
 */
function namesOf(endpoints: readonly Endpoint[]): CandidateNames | undefined {
  let names = tabled.get(endpoints);
  if (names !== undefined || !Object.isFrozen(endpoints)) return names;
  const n = endpoints.length;
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  const at = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const name = endpoints[i]!.name;
    const h = nameHash(name);
    hi[i] = h[0]!;
    lo[i] = h[1]!;
    if (!at.has(name)) at.set(name, i);
  }
  names = { hi, lo, at };
  tabled.set(endpoints, names);
  return names;
}

const NONE: readonly number[] = [];
const NONE_ENDPOINTS: readonly Endpoint[] = [];

/**
 * Appends to `picked` the best of `from` by `better`, in order, until `picked` holds `k`
 * (or `from` is used up). Equals among them keep `from`'s order, as k passes of a linear
 * scan that keep the first best would pick them. One pass that keeps the best few seen so
 * far in order (issue 19, eighth pass: k passes cost 3n comparisons a decision); k is the
 * few endpoints a picker returns, where sorting every candidate would cost n log n.
 */
function topInto(
  picked: number[],
  from: readonly number[],
  k: number,
  better: (i: number, j: number) => boolean,
) {
  const start = picked.length;
  const want = Math.min(k - start, from.length);
  if (want <= 0) return;
  for (let f = 0; f < from.length; f++) {
    const i = from[f]!;
    let end = picked.length;
    if (end - start === want) {
      // Full: `i` enters only if it beats the last kept (an equal one came first and stays).
      if (!better(i, picked[end - 1]!)) continue;
      end--;
    } else picked.push(i);
    // After every kept one that `i` does not beat: the kept ones `i` beats are a suffix.
    let p = end;
    while (p > start && better(i, picked[p - 1]!)) {
      picked[p] = picked[p - 1]!;
      p--;
    }
    picked[p] = i;
  }
}

/**
 * A running mean of about the last `window` samples (each new one weighs 1/min(n, window)),
 * meaningful from the first sample on (a replica places most new prefixes early); 1 before
 * any. Used for the share of requests whose prefix some candidate held (NEW_PREFIX false)
 * and for this gateway's share of the pods' reported requests.
 */
function recurrenceTracker(window = 32) {
  let n = 0;
  let mean = 1;
  return {
    add(sample: boolean | number): number {
      n = Math.min(n + 1, window);
      mean += (Number(sample) - mean) / n;
      return mean;
    },
    share: () => mean,
  };
}

/** Below this share of the pods' reported requests, other gateway replicas send there too. */
const OWN_SHARE_REPLICAS = 0.75;

/**
 * The rendezvous key: the prompt's distinctive block from the request's prefix match
 * (the first block most prompts do not share), else its first 64-character block.
 */
function rendezvousKey(ctx: SchedulingContext): { hi: number; lo: number } | undefined {
  const m = currentMatch(ctx);
  if (m !== undefined && m.hashes.count > 0) {
    const j = m.distinctive;
    return { hi: m.hashes.words[2 * j]!, lo: m.hashes.words[2 * j + 1]! };
  }
  const first = ctx.prefixHashes(DEFAULT_BLOCK_CHARS, 1);
  return first.count > 0 ? { hi: first.words[0]!, lo: first.words[1]! } : undefined;
}

export const maxScorePickerPlugin: PluginDefinition = {
  type: MAX_SCORE_PICKER,
  factory: withParameters(MaxScoreParameters, (name, params, deps) =>
    maxScorePicker({ name, random: deps.random, params, index: deps.prefixIndex }),
  ),
};
