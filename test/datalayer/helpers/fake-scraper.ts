/** A scraper on fake time against real loopback servers: timers move only when a test advances them. */

import { BUILTIN_ENGINES } from "../../../src/datalayer/engines.ts";
import { createScraper, type ScraperOptions } from "../../../src/datalayer/scraper.ts";
import type { ScrapeStatus } from "../../../src/endpoints/types.ts";
import { FakeTime } from "../../helpers/fake-time.ts";
import { recorder, waitFor } from "./metrics-server.ts";

export function fakeScraper(opts: Partial<ScraperOptions> = {}) {
  const time = new FakeTime();
  const rec = recorder();
  const fetched: string[] = [];
  const statuses = new Map<string, ScrapeStatus[]>();
  const scraper = createScraper({
    clock: time.clock,
    setTimer: time.setTimer,
    engines: BUILTIN_ENGINES,
    // Counted when called, so a test knows synchronously whether a timer started a scrape.
    fetch: (url, init) => {
      fetched.push(url);
      return fetch(url, init);
    },
    onSnapshot: rec.onSnapshot,
    onError: rec.onError,
    onStatus: (name, s) => statuses.set(name, [...(statuses.get(name) ?? []), s]),
    ...opts,
  });
  /** Scrapes of `name` that ended (snapshot or error). */
  const ended = (name: string) => rec.count(name) + rec.errorCount(name);
  return {
    time,
    rec,
    scraper,
    statuses,
    /** How many scrapes of `url` were started. */
    fetches: (url: string) => fetched.filter((u) => u === url).length,
    ended,
    /** Waits (for real I/O, not for time) until `n` scrapes of `name` have ended. */
    untilEnded: (name: string, n: number) => waitFor(() => ended(name) >= n, 5000, `${n} scrapes of ${name}`),
  };
}
