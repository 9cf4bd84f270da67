import type { Clock } from "../../clock.ts";
import type { Endpoint } from "../../endpoints/types.ts";
import { hashPrefix, type PrefixHashes, truncateHashes } from "../prefix/hashes.ts";
import { promptParts, promptText } from "../prefix/prompt.ts";
import type { SchedulingRequest } from "../types.ts";
import type { EffectiveLoad, InFlightView, LoadColumns, SchedulingContext, StateKey } from "./interfaces.ts";
import { type LoadTracker, newColumns, type SnapshotColumns } from "./load.ts";

/** Characters of prompt kept for hashing at least: the default window (256 blocks of 64). */
const HASH_WINDOW = 256 * 64;

/** Builds the per-request context: lazy prompt text and hashes, memoized loads, plugin state. */
export function createContext(opts: {
  request: SchedulingRequest;
  clock: Clock;
  inflight: InFlightView;
  loads: LoadTracker;
}): RequestContext {
  return new RequestContext(opts.request, opts.clock, opts.inflight, opts.loads);
}

/**
 * The load and snapshot columns of `endpoints` when some plugin of this decision already
 * asked `ctx.loads` for that same array (the default profile's queue scorer does, first):
 * the later plugins then read these instead of walking the candidates again. Undefined
 * otherwise: a plugin then takes its own pass, and asks nothing of the load tracker it
 * would not have asked (the tracker's baseline is taken at a snapshot's first use).
 */
export function madeLoads(
  ctx: SchedulingContext,
  endpoints: readonly Endpoint[],
): SnapshotColumns | undefined {
  return ctx instanceof RequestContext ? ctx.made(endpoints) : undefined;
}

/**
 * One request's context. A class rather than an object of closures: one decision made
 * eight functions, a scope for them and two Maps per request (issue 19, fifth pass: the
 * allocation per request is what Bun's collector pays for); the methods live on the
 * prototype and the memo Maps are made on first use.
 */
export class RequestContext implements SchedulingContext {
  readonly targetModel: string;
  private text: string | undefined = undefined;
  /** The hashes of the first block size asked for in fields (one a decision, usually), others in a Map. */
  private hashChars = 0;
  private hashBlocks = 0;
  private hashed: PrefixHashes | undefined = undefined;
  private hashes: Map<number, { maxBlocks: number; hashes: PrefixHashes }> | undefined = undefined;
  private loadMemo: Map<Endpoint, EffectiveLoad> | undefined = undefined;
  /** The columns of the last endpoints array asked for (a profile's scorers share one array). */
  private columnsOf: readonly Endpoint[] | undefined = undefined;
  private columns: SnapshotColumns | undefined = undefined;
  /** Past `endDecision`: `loads` no longer borrows the tracker's scratch. */
  private ended = false;
  /** The tracker's scratch columns this decision holds (one at most). */
  private borrowed: SnapshotColumns | undefined = undefined;
  /**
   * Plugin state: the first four keys in fields (a decision of the default profile sets three),
   * any more in a Map made then. No Map per decision (issue 19, sixth pass).
   */
  private k0: StateKey<unknown> | undefined = undefined;
  private v0: unknown = undefined;
  private k1: StateKey<unknown> | undefined = undefined;
  private v1: unknown = undefined;
  private k2: StateKey<unknown> | undefined = undefined;
  private v2: unknown = undefined;
  private k3: StateKey<unknown> | undefined = undefined;
  private v3: unknown = undefined;
  private more: Map<StateKey<unknown>, unknown> | undefined = undefined;
  /** The prompt's first characters and its whole length (prompt.ts `promptParts`), as made. */
  private prefix: { readonly parts: readonly string[]; readonly length: number } | undefined = undefined;
  /** How many characters `prefix` was made for (kept beside it: no copy of it a decision). */
  private prefixLimit = 0;

  constructor(
    readonly request: SchedulingRequest,
    readonly clock: Clock,
    readonly inflight: InFlightView,
    private readonly tracker: LoadTracker,
  ) {
    this.targetModel = request.targetModel;
  }

  private window(chars: number) {
    const prefix = this.prefix;
    if (prefix !== undefined && this.prefixLimit >= chars) return prefix;
    const limit = Math.max(chars, HASH_WINDOW);
    const made = promptParts(this.request.body, this.request.kind, limit);
    this.prefix = made;
    this.prefixLimit = limit;
    return made;
  }

  load(endpoint: Endpoint): EffectiveLoad {
    this.loadMemo ??= new Map();
    const memo = this.loadMemo;
    let l = memo.get(endpoint);
    if (l === undefined) {
      l = this.tracker.load(endpoint, this.inflight);
      memo.set(endpoint, l);
    }
    return l;
  }

  loads(endpoints: readonly Endpoint[]): LoadColumns {
    if (this.columns !== undefined && this.columnsOf === endpoints) return this.columns;
    const n = endpoints.length;
    // The tracker's scratch for the decision's first array (no six typed arrays a decision;
    // issue 19, twenty-second pass); columns of their own for another array (a plugin may
    // still read the first) and after the decision (a hook may keep them).
    let c: SnapshotColumns;
    if (this.ended || this.borrowed !== undefined) c = newColumns(n);
    else {
      c = this.tracker.borrow(n);
      this.borrowed = c;
    }
    this.tracker.fill(endpoints, this.inflight, c);
    this.columnsOf = endpoints;
    this.columns = c;
    return c;
  }

  /**
   * The decision is over (the scheduler calls this once its profiles ran, also when one
   * threw): the scratch columns go back to the tracker for the next decision, and a later
   * `loads` makes columns of its own.
   */
  endDecision(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.borrowed === undefined) return;
    this.tracker.giveBack(this.borrowed);
    this.borrowed = undefined;
    this.columns = undefined;
    this.columnsOf = undefined;
  }

  /** The columns `loads(endpoints)` made in this decision, if it made them (no pass of its own). */
  made(endpoints: readonly Endpoint[]): SnapshotColumns | undefined {
    return this.columnsOf === endpoints ? this.columns : undefined;
  }

  promptText(): string {
    this.text ??= promptText(this.request.body, this.request.kind);
    return this.text;
  }

  promptLength(): number {
    return this.text?.length ?? this.window(0).length;
  }

  prefixHashes(blockChars: number, maxBlocks: number): PrefixHashes {
    const first = this.hashed === undefined || this.hashChars === blockChars;
    if (first) {
      if (this.hashed !== undefined && this.hashBlocks >= maxBlocks)
        return truncateHashes(this.hashed, maxBlocks);
    } else {
      const memo = this.hashes?.get(blockChars);
      if (memo !== undefined && memo.maxBlocks >= maxBlocks) return truncateHashes(memo.hashes, maxBlocks);
    }
    const h = hashPrefix(this.text ?? this.window(blockChars * maxBlocks).parts, {
      model: this.request.targetModel,
      blockChars,
      maxBlocks,
    });
    if (first) {
      this.hashChars = blockChars;
      this.hashBlocks = maxBlocks;
      this.hashed = h;
    } else {
      this.hashes ??= new Map();
      this.hashes.set(blockChars, { maxBlocks, hashes: h });
    }
    return h;
  }

  get<T>(key: StateKey<T>): T | undefined {
    if (this.k0 === key) return this.v0 as T;
    if (this.k1 === key) return this.v1 as T;
    if (this.k2 === key) return this.v2 as T;
    if (this.k3 === key) return this.v3 as T;
    return this.more?.get(key) as T | undefined;
  }

  set<T>(key: StateKey<T>, value: T): void {
    // Slots fill in order and are never emptied: the first free one is past every key held.
    if (this.k0 === undefined || this.k0 === key) {
      this.k0 = key;
      this.v0 = value;
    } else if (this.k1 === undefined || this.k1 === key) {
      this.k1 = key;
      this.v1 = value;
    } else if (this.k2 === undefined || this.k2 === key) {
      this.k2 = key;
      this.v2 = value;
    } else if (this.k3 === undefined || this.k3 === key) {
      this.k3 = key;
      this.v3 = value;
    } else {
      this.more ??= new Map();
      this.more.set(key, value);
    }
  }
}
