/**
 * One request's prefix match, computed once and shared by the prefix plugins
 * (prefix-cache-scorer, prefix-cache-affinity-filter, inflight-load-producer,
 * token-load-scorer, max-score-picker's rendezvous key):
 *
 *   matches(e)   = leading prompt blocks endpoint e holds (approximate prefix index)
 *   distinctive  = the prompt's first block most prompts do not share (distinctive.ts)
 *   isNew        = no candidate holds the distinctive block (a shared preamble alone is
 *                  not a known prefix)
 *   uncached(e)  = prompt tokens - matches(e) x block tokens   (tokens = characters / 4)
 *
 * It also keeps the gateway's count of uncached tokens in flight per endpoint (the
 * index's `pendingTokens`): added once per request on its primary before sending, taken
 * off when a streamed answer starts (its first byte: the prefill is done) or when the
 * request ends. Whichever prefix plugins a config has, a request is counted once.
 */
import type { Endpoint } from "../src/endpoints/types.ts";
import { type SchedulingContext, stateKey } from "../src/scheduling/framework/interfaces.ts";
import { CHARS_PER_TOKEN, type PrefixHashes } from "../src/scheduling/prefix/hashes.ts";
import type { PrefixLengths } from "../src/scheduling/prefix/matched-lengths.ts";
import type { PrefixIndex } from "../src/scheduling/prefix/prefix-index.ts";

export interface PrefixMatch {
  readonly hashes: PrefixHashes;
  readonly blockChars: number;
  /** Leading blocks per endpoint name (undefined: none), as `PrefixIndex.matchLengths` answers. */
  readonly matches: PrefixLengths;
  /** Index of the distinctive block (0 when the prompt has no full block). */
  readonly distinctive: number;
  /** True when the prompt has a block and no candidate holds its distinctive block. */
  readonly isNew: boolean;
  /** Prompt tokens (characters / 4, rounded up). */
  readonly promptTokens: number;
}

const MATCH = stateKey<PrefixMatch>("prefix-match");
const PENDING = stateKey<{ endpoint: string; tokens: number; open: boolean }>("prefix-match/pending");

/** The request's match for this block size and window (memoized on the context). */
export function prefixMatch(
  ctx: SchedulingContext,
  index: PrefixIndex,
  opts: { blockChars: number; maxBlocks: number },
  endpoints: readonly Endpoint[],
): PrefixMatch {
  const memo = ctx.get(MATCH);
  if (memo !== undefined && memo.blockChars === opts.blockChars && memo.hashes.count <= opts.maxBlocks)
    return memo;
  const hashes = ctx.prefixHashes(opts.blockChars, opts.maxBlocks);
  const matches = index.matchLengths(hashes.keys);
  const distinctive = hashes.count > 0 ? index.prompts.distinctive(hashes.keys) : 0;
  let isNew = hashes.count > 0;
  for (let i = 0; isNew && i < endpoints.length && matches.size > 0; i++)
    if ((matches.get(endpoints[i]!.name) ?? 0) > distinctive) isNew = false;
  const m: PrefixMatch = {
    hashes,
    blockChars: opts.blockChars,
    matches,
    distinctive,
    isNew,
    promptTokens: Math.ceil(ctx.promptLength() / CHARS_PER_TOKEN),
  };
  ctx.set(MATCH, m);
  return m;
}

/** The match computed earlier for this request, if a prefix plugin computed one. */
export function currentMatch(ctx: SchedulingContext): PrefixMatch | undefined {
  return ctx.get(MATCH);
}

/** Prompt tokens of the request that `endpoint` does not hold (never below 0). */
export function uncachedTokens(m: PrefixMatch, endpoint: string): number {
  const cachedTokens = ((m.matches.get(endpoint) ?? 0) * m.blockChars) / CHARS_PER_TOKEN;
  return Math.max(0, m.promptTokens - cachedTokens);
}

/**
 * Records the request on `primary` (PreRequest): its blocks in the index with the
 * endpoint's capacity and in the prompt statistics (applied once the request is on its
 * way, before anything reads the index: `PrefixIndex.recordLater`), its uncached tokens
 * as pending. Idempotent per request: a second prefix plugin records nothing more.
 */
export function recordPick(
  ctx: SchedulingContext,
  index: PrefixIndex,
  primary: Endpoint,
  capacity: number,
): PrefixMatch | undefined {
  const m = ctx.get(MATCH);
  if (m === undefined || m.hashes.count === 0 || ctx.get(PENDING) !== undefined) return undefined;
  // The pick first, then the prompt statistics, which weigh only keys the index holds:
  // keys it evicts at once (a prompt longer than the pod's KV) get no statistics, so the
  // statistics never outgrow the index. Both once this request is on its way (before
  // anything reads the index again: `recordLater`).
  index.recordLater(primary.name, m.hashes.keys, capacity, true);
  const tokens = uncachedTokens(m, primary.name);
  index.addPending(primary.name, tokens);
  ctx.set(PENDING, { endpoint: primary.name, tokens, open: true });
  return m;
}

/**
 * The answer started (`phase` "received": ResponseReceived on `endpoint`) or the request
 * ended ("complete"). A streamed answer's start is its first byte, when the prefill is
 * done: its uncached tokens stop being pending. A whole (non-streamed) answer arrives
 * when generation is done: at its start the tokens move to the endpoint that served (a
 * fallback, when the primary failed) and stay until the end, as llm-d's producer counts.
 */
export function settlePending(
  ctx: SchedulingContext,
  index: PrefixIndex,
  phase: "received" | "complete",
  endpoint?: Endpoint,
): void {
  const p = ctx.get(PENDING);
  if (p === undefined || !p.open) return;
  if (phase === "received" && !streams(ctx)) {
    if (endpoint === undefined || endpoint.name === p.endpoint) return;
    index.addPending(p.endpoint, -p.tokens);
    index.addPending(endpoint.name, p.tokens);
    ctx.set(PENDING, { ...p, endpoint: endpoint.name });
    return;
  }
  index.addPending(p.endpoint, -p.tokens);
  ctx.set(PENDING, { ...p, open: false });
}

/** True when the client asked for a streamed answer. */
export function streams(ctx: SchedulingContext): boolean {
  return (ctx.request.body as { stream?: unknown }).stream === true;
}

/**
 * Index entries to keep for `endpoint`: with `autoTune`, what its KV cache holds as it
 * reports it (num_gpu_blocks x block_size tokens, in blocks of `blockChars` characters at
 * 4 characters a token); otherwise, or when it reports nothing, `fallback`.
 */
export function capacityOf(
  endpoint: Endpoint,
  opts: { blockChars: number; autoTune: boolean; fallback: number },
): number {
  const cache = endpoint.metrics.cache;
  if (!opts.autoTune || cache === undefined || cache.numBlocks <= 0 || cache.blockSize <= 0)
    return opts.fallback;
  const blockTokens = opts.blockChars / CHARS_PER_TOKEN;
  return Math.max(1, Math.floor((cache.numBlocks * cache.blockSize) / blockTokens));
}
