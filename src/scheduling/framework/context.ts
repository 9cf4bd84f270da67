import type { Clock } from "../../clock.ts";
import type { Endpoint } from "../../endpoints/types.ts";
import { hashPrefix, type PrefixHashes, truncateHashes } from "../prefix/hashes.ts";
import { promptParts, promptText } from "../prefix/prompt.ts";

/** Characters of prompt kept for hashing at least: the default window (256 blocks of 64). */
const HASH_WINDOW = 256 * 64;

import type { SchedulingRequest } from "../types.ts";
import type { EffectiveLoad, InFlightView, LoadColumns, SchedulingContext, StateKey } from "./interfaces.ts";
import type { LoadTracker } from "./load.ts";

/** Builds the per-request context: lazy prompt text and hashes, memoized loads, plugin state. */
export function createContext(opts: {
  request: SchedulingRequest;
  clock: Clock;
  inflight: InFlightView;
  loads: LoadTracker;
}): SchedulingContext {
  const { request, clock, inflight, loads } = opts;
  let text: string | undefined;
  const hashes = new Map<number, { maxBlocks: number; hashes: PrefixHashes }>();
  let loadMemo: Map<Endpoint, EffectiveLoad> | undefined;
  /** The columns of the last endpoints array asked for (a profile's scorers share one array). */
  let columnsOf: readonly Endpoint[] | undefined;
  let columns: LoadColumns | undefined;
  const state = new Map<StateKey<unknown>, unknown>();
  /** The prompt's first characters and its whole length (prompt.ts `promptPrefix`). */
  let prefix: { parts: readonly string[]; length: number; limit: number } | undefined;
  const window = (chars: number) => {
    if (prefix === undefined || prefix.limit < chars) {
      const limit = Math.max(chars, HASH_WINDOW);
      prefix = { ...promptParts(request.body, request.kind, limit), limit };
    }
    return prefix;
  };
  const ctx: SchedulingContext = {
    request,
    targetModel: request.targetModel,
    clock,
    inflight,
    load(endpoint) {
      loadMemo ??= new Map();
      let l = loadMemo.get(endpoint);
      if (l === undefined) {
        l = loads.load(endpoint, inflight);
        loadMemo.set(endpoint, l);
      }
      return l;
    },
    loads(endpoints) {
      if (columns !== undefined && columnsOf === endpoints) return columns;
      const n = endpoints.length;
      const c: LoadColumns = {
        waiting: new Float64Array(n),
        running: new Float64Array(n),
        assumed: new Float64Array(n),
        kvUsage: new Float64Array(n),
        inflight: new Float64Array(n),
      };
      loads.fill(endpoints, inflight, c);
      columnsOf = endpoints;
      columns = c;
      return c;
    },
    promptText() {
      text ??= promptText(request.body, request.kind);
      return text;
    },
    promptLength() {
      return text?.length ?? window(0).length;
    },
    prefixHashes(blockChars, maxBlocks) {
      const memo = hashes.get(blockChars);
      if (memo !== undefined && memo.maxBlocks >= maxBlocks) return truncateHashes(memo.hashes, maxBlocks);
      const h = hashPrefix(text ?? window(blockChars * maxBlocks).parts, {
        model: request.targetModel,
        blockChars,
        maxBlocks,
      });
      hashes.set(blockChars, { maxBlocks, hashes: h });
      return h;
    },
    get<T>(key: StateKey<T>): T | undefined {
      return state.get(key) as T | undefined;
    },
    set<T>(key: StateKey<T>, value: T): void {
      state.set(key, value);
    },
  };
  return ctx;
}
