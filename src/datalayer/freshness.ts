/**
 * When an endpoint's metrics can be trusted, and when it should leave scheduling.
 *
 *   age     = now - metrics.updatedAt        (when the last good scrape answered)
 *   late    = a scrape is in flight past its `lateAt` (start + scrapeTimeoutMs)
 *   stale   = never scraped, or age > stalenessMs unless a scrape is in flight and none
 *             has failed since the last success
 *   lagging = stale, or late, or the last scrape failed (error, non-2xx, abandoned)
 *
 * The scraper abandons a scrape (aborts it, a failure) at scrapeTimeoutMs + stalenessMs,
 * which bounds the grace an in-flight scrape gives. So a busy pod that answers a scrape
 * late leaves scheduling while it is late but keeps its last snapshot, is not flipped to
 * stale (the utilization detector would count it saturated) and keeps its kept-alive
 * connection; a pod that stops answering leaves scheduling `scrapeTimeoutMs` into its
 * scrape and is stale once that scrape is abandoned. Without a scrape status (the scraper
 * has not reported yet, or a test built the endpoint) only the age counts.
 *
 * Scheduling drops lagging endpoints while some candidate is not lagging, and keeps every
 * candidate when all of them lag (as with ejection, and like GIE's utilization filter,
 * which also fails open).
 */

import type { EndpointColumns } from "../endpoints/columns.ts";
import type { Endpoint, MetricsSnapshot, ScrapeStatus } from "../endpoints/types.ts";

/** True when a snapshot was never taken, or is older than `stalenessMs` and no scrape in flight may still refresh it. */
export function isStale(
  snapshot: MetricsSnapshot,
  now: number,
  stalenessMs = 2000,
  scrape?: ScrapeStatus,
): boolean {
  if (snapshot.updatedAt === 0) return true;
  if (now - snapshot.updatedAt <= stalenessMs) return false;
  return !(scrape !== undefined && scrape.failures === 0 && scrape.inFlightSince !== undefined);
}

/** A scrape is in flight past its `lateAt`. */
export function isLate(scrape: ScrapeStatus | undefined, now: number): boolean {
  return scrape?.lateAt !== undefined && now > scrape.lateAt;
}

/** Stale metrics, a late scrape or a failed one: what we know of this endpoint's load is not current. */
export function isLagging(
  e: Pick<Endpoint, "metrics" | "scrape">,
  now: number,
  stalenessMs: number,
): boolean {
  return (
    (e.scrape?.failures ?? 0) > 0 || isLate(e.scrape, now) || isStale(e.metrics, now, stalenessMs, e.scrape)
  );
}

/**
 * The candidates that are not lagging; all of them when every one lags (better a pod we
 * cannot see than none). Returns `endpoints` itself when nothing lags, so the usual case
 * allocates nothing. One indexed pass that stops at the first lagging endpoint, `isLagging`
 * inlined for the usual endpoint (scraped, no scrape failed or late): this walks every
 * candidate of every request (issue 19, eighth pass); the filter runs only when some lag.
 */
export function preferFresh<T extends Pick<Endpoint, "metrics" | "scrape">>(
  endpoints: readonly T[],
  now: number,
  stalenessMs: number,
  columns?: EndpointColumns,
): readonly T[] {
  const n = endpoints.length;
  let first = -1;
  // An array the pool's store made: the same test on its columns, no endpoint object read
  // (issue 19, twenty-third pass; src/endpoints/columns.ts). −1 failures: no scrape status.
  const slots = columns?.slotsOf(endpoints as unknown as readonly Endpoint[]);
  if (slots !== undefined) {
    const { updatedAt, failures, lateAt } = columns!;
    for (let i = 0; i < n; i++) {
      const s = slots[i]!;
      const at = updatedAt[s]!;
      const f = failures[s]!;
      const late = lateAt[s]!;
      if (at !== 0 && now - at <= stalenessMs && (f === -1 || (f === 0 && !(now > late)))) continue;
      if (isLagging(endpoints[i]!, now, stalenessMs)) {
        first = i;
        break;
      }
    }
    return first === -1 ? endpoints : freshFrom(endpoints, first, now, stalenessMs);
  }
  for (let i = 0; i < n; i++) {
    const e = endpoints[i]!;
    const scrape = e.scrape;
    const updatedAt = e.metrics.updatedAt;
    // Fresh for certain: no failure, not late, scraped within stalenessMs (isLagging's terms).
    if (
      updatedAt !== 0 &&
      now - updatedAt <= stalenessMs &&
      (scrape === undefined ||
        (scrape.failures === 0 && !(scrape.lateAt !== undefined && now > scrape.lateAt)))
    )
      continue;
    if (isLagging(e, now, stalenessMs)) {
      first = i;
      break;
    }
  }
  return first === -1 ? endpoints : freshFrom(endpoints, first, now, stalenessMs);
}

/** `preferFresh`'s answer when `first` is its first lagging endpoint. */
function freshFrom<T extends Pick<Endpoint, "metrics" | "scrape">>(
  endpoints: readonly T[],
  first: number,
  now: number,
  stalenessMs: number,
): readonly T[] {
  const n = endpoints.length;
  // The ones before the first lagging one are fresh (passed over), in order.
  const fresh: T[] = endpoints.slice(0, first);
  for (let i = first + 1; i < n; i++)
    if (!isLagging(endpoints[i]!, now, stalenessMs)) fresh.push(endpoints[i]!);
  return fresh.length === 0 ? endpoints : fresh;
}
