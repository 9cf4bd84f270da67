/**
 * When an endpoint's metrics can be trusted, and when it should leave scheduling.
 *
 *   age     = now - metrics.updatedAt          (when the last good scrape answered)
 *   late    = a scrape is in flight, before its deadline (start + scrapeTimeoutMs),
 *             and no scrape has failed since the last success
 *   stale   = never scraped, or (age > stalenessMs and not late)
 *   lagging = stale, or the last scrape failed (error, non-2xx or timeout)
 *
 * So a busy pod whose scrape answers late keeps its last snapshot until that scrape's
 * deadline instead of flipping to stale the moment `stalenessMs` passes, while a pod that
 * stops answering lags as soon as one scrape times out and is stale once its metrics pass
 * `stalenessMs`. Without a scrape status (the scraper has not reported yet, or a test
 * built the endpoint) only the age counts.
 *
 * Scheduling drops lagging endpoints while some candidate is not lagging, and keeps every
 * candidate when all of them lag (as with ejection, and like GIE's utilization filter,
 * which also fails open).
 */

import type { Endpoint, MetricsSnapshot, ScrapeStatus } from "../endpoints/types.ts";

/** True when a snapshot was never taken, or is older than `stalenessMs` and no late scrape may still refresh it. */
export function isStale(
  snapshot: MetricsSnapshot,
  now: number,
  stalenessMs = 2000,
  scrape?: ScrapeStatus,
): boolean {
  if (snapshot.updatedAt === 0) return true;
  if (now - snapshot.updatedAt <= stalenessMs) return false;
  return !isLate(scrape, now);
}

/** A scrape is in flight within its time budget, and the previous one succeeded. */
export function isLate(scrape: ScrapeStatus | undefined, now: number): boolean {
  return (
    scrape !== undefined && scrape.failures === 0 && scrape.deadline !== undefined && now <= scrape.deadline
  );
}

/** Stale metrics, or a last scrape that failed: what we know of this endpoint's load is not current. */
export function isLagging(
  e: Pick<Endpoint, "metrics" | "scrape">,
  now: number,
  stalenessMs: number,
): boolean {
  return (e.scrape?.failures ?? 0) > 0 || isStale(e.metrics, now, stalenessMs, e.scrape);
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
