/**
 * Precise prefix scoring, shared by precise-prefix-cache-producer and -scorer:
 *
 *   tokens  = the prompt's tokens: the simulator's tokenizer run here, or what the pods'
 *             /tokenize answered for its longest learned prefix (src/kvevents/pod-tokens.ts)
 *   keys    = chained request keys of its full blocks (src/kvevents/block-keys.ts)
 *   score   = leading keys the endpoint holds / keys        (upstream's absolute normalizer)
 *
 * "Holds" = what the endpoint's own KV events reported (BlockStored minus BlockRemoved,
 * AllBlocksCleared), plus speculative entries for requests sent to it less than
 * `speculativeTTL` ago. An endpoint is found in the index under its name, its address
 * (`host:port`) or its host, whichever its events used (per-pod mode: the name; central
 * mode: the topic's `kv@<pod>@<model>`).
 *
 * A pod that sent no event and was no candidate for 10 minutes is forgotten (and its
 * per-pod subscription closed): Kubernetes pods that left never come back by name.
 *
 * Until the KV-event sockets are up nothing is known (scores 0); when they cannot be had
 * at all (a runtime without TCP sockets, a port in use) scoring falls back to the
 * approximate prefix index (prefix-cache-scorer's), logged once.
 */
import type { Endpoint } from "../src/endpoints/types.ts";
import type { PreciseState } from "../src/kvevents/hub.ts";
import {
  NEW_PREFIX,
  type PreRequest,
  type ResponseReceived,
  type SchedulingContext,
  type Scorer,
  stateKey,
} from "../src/scheduling/framework/interfaces.ts";

/** A pod with no event and no scheduling decision for this long has left: forgotten, unsubscribed. */
export const POD_IDLE_MS = 10 * 60_000;
const PRUNE_EVERY_MS = 60_000;

/** Host of `host:port` / `[v6]:port`. */
export function hostOf(address: string): string {
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (v6) return v6[1]!;
  const i = address.lastIndexOf(":");
  return i > 0 && address.indexOf(":") === i ? address.slice(0, i) : address;
}

export interface PreciseScoring {
  readonly state: PreciseState;
  score(ctx: SchedulingContext, endpoints: readonly Endpoint[]): number[];
  preRequest(ctx: SchedulingContext, endpoints: readonly Endpoint[]): void;
  responseReceived: ResponseReceived["responseReceived"];
}

export function preciseScoring(opts: {
  name: string;
  state: PreciseState;
  /** The prompt's (leading) token ids, or undefined when not known (yet). */
  tokens: (ctx: SchedulingContext, endpoints: readonly Endpoint[]) => ArrayLike<number> | undefined;
  speculative: boolean;
  /** The approximate scorer used when KV events cannot be had. */
  fallback: Scorer & PreRequest & ResponseReceived;
}): PreciseScoring {
  const { state, fallback } = opts;
  const { index, pool } = state;
  const keysKey = stateKey<readonly number[]>(`precise-prefix/${opts.name}/keys`);
  let lastPrune = Number.NEGATIVE_INFINITY;
  const usedFallback = stateKey<boolean>(`precise-prefix/${opts.name}/fallback`);

  /** The index's name for this endpoint: the one its events used, else the mode's default. */
  function podId(e: Endpoint): string {
    if (index.knows(e.name)) return e.name;
    if (index.knows(e.address)) return e.address;
    const host = hostOf(e.address);
    if (index.knows(host)) return host;
    return state.settings.events.discoverPods ? e.name : e.address;
  }

  function keysOf(ctx: SchedulingContext, endpoints: readonly Endpoint[]): readonly number[] {
    let keys = ctx.get(keysKey);
    if (keys === undefined) {
      const tokens = opts.tokens(ctx, endpoints);
      keys = tokens === undefined ? [] : index.requestKeys(ctx.targetModel, tokens);
      ctx.set(keysKey, keys);
    }
    return keys;
  }

  return {
    state,
    score(ctx, endpoints) {
      state.start();
      if (state.status === "failed") {
        ctx.set(usedFallback, true);
        return Array.from(fallback.score(ctx, endpoints) as ArrayLike<number>);
      }
      if (state.status === "ready") for (const e of endpoints) pool.ensurePod(e.name, hostOf(e.address));
      const ids = endpoints.map(podId);
      index.touch(ids);
      const now = ctx.clock.now();
      if (now - lastPrune >= PRUNE_EVERY_MS) {
        lastPrune = now;
        for (const gone of index.prune(POD_IDLE_MS)) pool.removePod(gone);
      }
      const keys = keysOf(ctx, endpoints);
      if (keys.length === 0) return endpoints.map(() => 0);
      const matches = index.match(keys, ids);
      ctx.set(
        NEW_PREFIX,
        ids.every((id) => !matches.get(id)),
      );
      return ids.map((id) => (matches.get(id) ?? 0) / keys.length);
    },
    preRequest(ctx, endpoints) {
      if (ctx.get(usedFallback)) return fallback.preRequest(ctx, endpoints);
      const primary = endpoints[0];
      if (!opts.speculative || primary === undefined || state.status === "failed") return;
      const keys = keysOf(ctx, endpoints);
      if (keys.length > 0) index.speculate(podId(primary), keys);
    },
    responseReceived(ctx, response) {
      if (ctx.get(usedFallback)) fallback.responseReceived(ctx, response);
    },
  };
}
