/**
 * Leading blocks each endpoint holds, from `PrefixIndex.matchLengths`: `get(name)` as a
 * `Map` of the match would answer (undefined for no match), without a Map per request.
 */
export interface PrefixLengths {
  get(name: string): number | undefined;
  /** Endpoints with a match. */
  readonly size: number;
}

/** The endpoint ids of a prefix index, and a counter bumped whenever one is freed and may be reused. */
export interface EndpointIds {
  readonly endpointEpoch: number;
  /** The endpoint's id, or a negative number when it holds nothing (as of the last applied record). */
  matchedIdOf(name: string): number;
}

export const NO_MATCH: PrefixLengths = Object.freeze({ get: () => undefined, size: 0 });

/** What `PrefixIndex.matchLengths` answers: lengths by endpoint id, names kept for after ids change. */
export class MatchedLengths implements PrefixLengths {
  constructor(
    private readonly index: EndpointIds,
    /** Leading blocks per endpoint id at match time (0: none). */
    private readonly byId: Int32Array,
    /** The matched endpoints' names and lengths (when ids were reassigned since). */
    private readonly names: readonly string[],
    private readonly lengths: Int32Array,
    private readonly epoch: number,
  ) {}

  get size(): number {
    return this.names.length;
  }

  get(name: string): number | undefined {
    if (this.epoch === this.index.endpointEpoch) {
      const id = this.index.matchedIdOf(name);
      const n = id < 0 ? 0 : (this.byId[id] ?? 0);
      return n === 0 ? undefined : n;
    }
    for (let k = 0; k < this.names.length; k++) if (this.names[k] === name) return this.lengths[k];
    return undefined;
  }
}
