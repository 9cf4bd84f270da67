/** The data layer: scrape model servers' `/metrics` and map them to engine-neutral snapshots. */

export type { EngineMapping, Families, MetricRef } from "./engines.ts";
export {
  BUILTIN_ENGINES,
  EngineMappingSchema,
  EngineMappingsSchema,
  mergeEngineMappings,
  missingMetrics,
  toSnapshot,
  wantedMetrics,
} from "./engines.ts";
export { isLagging, isLate, isStale, preferFresh } from "./freshness.ts";
export { type ParseResult, parsePromText, type Sample } from "./prom-text.ts";
export {
  createScraper,
  type FetchLike,
  nextDelay,
  type Scraper,
  type ScraperOptions,
  type ScrapeTarget,
} from "./scraper.ts";
