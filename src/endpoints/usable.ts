import { preferFresh } from "../datalayer/freshness.ts";
import type { EndpointColumns } from "./columns.ts";
import type { Endpoint } from "./types.ts";

/** What `usableEndpoints` asks of passive health. */
export interface EjectionView {
  /** True when no endpoint is ejected: lets the request path skip filtering. */
  readonly allHealthy: boolean;
  isEjected(name: string): boolean;
}

/**
 * The endpoints a request may be sent to, one rule for the schedule stage and for flow
 * control's room (so flow control never grants a place the scheduler would not use):
 * not ejected by passive health (all of them, when every one is), and among those the
 * ones whose metrics are not lagging (`preferFresh`, with the same keep-all fallback).
 * `columns`: the pool store's, so `preferFresh` reads an array the store made from them.
 */
export function usableEndpoints<T extends Pick<Endpoint, "name" | "metrics" | "scrape">>(
  serving: readonly T[],
  opts: { health: EjectionView; now: number; stalenessMs: number; columns?: EndpointColumns | undefined },
): readonly T[] {
  const { health } = opts;
  const healthy = health.allHealthy ? serving : serving.filter((e) => !health.isEjected(e.name));
  return preferFresh(healthy.length > 0 ? healthy : serving, opts.now, opts.stalenessMs, opts.columns);
}
