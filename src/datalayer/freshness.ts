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
 * allocates nothing.
 */
export function preferFresh<T extends Pick<Endpoint, "metrics" | "scrape">>(
  endpoints: readonly T[],
  now: number,
  stalenessMs: number,
): readonly T[] {
  let lagging = 0;
  for (const e of endpoints) if (isLagging(e, now, stalenessMs)) lagging++;
  if (lagging === 0 || lagging === endpoints.length) return endpoints;
  return endpoints.filter((e) => !isLagging(e, now, stalenessMs));
}
