/**
 * The prompt tokens this gateway has in flight per endpoint, one counter per gateway.
 * `builtinPlugins()` creates it and hands it to every inflight-load-producer instance
 * (which feeds it from PreRequest to ResponseComplete) and to the concurrency detector's
 * `tokens` / `hybrid` modes (which read it). Scheduling plugins are rebuilt on reload and
 * flow control cannot reach them; this counter outlives both, so a request counted by an
 * old producer is taken off by the same producer after a reload.
 */
export interface InFlightTokenCounter {
  /** Adds `n` (negative to take off) prompt tokens on the endpoint. */
  add(endpoint: string, n: number): void;
  /** Prompt tokens in flight on the endpoint (0 when none). */
  get(endpoint: string): number;
}

export function inflightTokenCounter(): InFlightTokenCounter {
  const tokens = new Map<string, number>();
  return {
    add(endpoint, n) {
      const next = (tokens.get(endpoint) ?? 0) + n;
      if (next > 0) tokens.set(endpoint, next);
      else tokens.delete(endpoint);
    },
    get: (endpoint) => tokens.get(endpoint) ?? 0,
  };
}
