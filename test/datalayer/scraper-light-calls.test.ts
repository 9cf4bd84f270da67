/**
 * A scrape through the gateway's own pod client (the Bun wire client here; the Node undici
 * client offers the same) uses the light abort controller that client offers and one shared
 * request-headers object, not a platform AbortController and a new Headers per scrape (issue
 * 19: CPU per background scrape), with the same timeout, abort and header semantics.
 */
import { afterEach, expect, test } from "bun:test";
import type { FetchLike } from "../../src/datalayer/scraper.ts";
import { wireFetch } from "../../src/runtime/bun-wire.ts";
import { ABORT_CONTROLLER, LightAbortSignal } from "../../src/runtime/node-abort.ts";
import { fakeScraper } from "./helpers/fake-scraper.ts";
import { startMetricsServer, waitFor } from "./helpers/metrics-server.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** The wire client, recording every call's init; still offering its light controllers. */
function recordingWire() {
  const wire = wireFetch();
  const inits: RequestInit[] = [];
  const fetch: FetchLike = (url, init) => {
    inits.push(init);
    return wire(url, init);
  };
  Object.assign(fetch, {
    [ABORT_CONTROLLER]: (wire as unknown as Record<symbol, unknown>)[ABORT_CONTROLLER],
  });
  cleanups.push(() => wire.close());
  return { fetch, inits };
}

test("scrapes through a client that offers light controllers use them, and one headers object", async () => {
  const server = startMetricsServer();
  const { fetch, inits } = recordingWire();
  const f = fakeScraper({ intervalMs: 3_600_000, fetch });
  cleanups.push(
    () => f.scraper.stop(),
    () => server.stop(),
  );
  f.scraper.setTargets([{ name: "a", url: server.url(), engine: "vllm" }]);
  await f.scraper.scrapeNow();
  await f.scraper.scrapeNow();
  expect(f.rec.count("a")).toBe(2);
  expect(inits).toHaveLength(2);
  for (const init of inits) {
    expect(init.signal).toBeInstanceOf(LightAbortSignal);
    expect(new Headers(init.headers).get("accept")).toBe("text/plain;version=0.0.4;q=1,*/*;q=0.1");
  }
  expect(inits[0]!.signal).not.toBe(inits[1]!.signal); // one controller per scrape
  expect(inits[0]!.headers).toBe(inits[1]!.headers);
});

test("a hung scrape on a light controller is abandoned as before: TimeoutError, the pod sees the abort", async () => {
  const server = startMetricsServer({ hang: true });
  const { fetch, inits } = recordingWire();
  const f = fakeScraper({ intervalMs: 3_600_000, timeoutMs: 100, fetch });
  cleanups.push(
    () => f.scraper.stop(),
    () => server.stop(),
  );
  f.scraper.setTargets([{ name: "a", url: server.url(), engine: "vllm" }]);
  const round = f.scraper.scrapeNow();
  await waitFor(() => server.stats("/metrics").requests === 1, 5000, "the scrape to reach the server");
  await f.time.advanceAsync(100);
  await round;
  expect(inits[0]!.signal).toBeInstanceOf(LightAbortSignal);
  expect(f.scraper.errors().get("a")).toBe(1);
  const err = f.rec.errors.get("a")![0] as Error;
  expect(err.name).toBe("TimeoutError");
  expect(err.message).toContain("timed out after 100 ms");
  await waitFor(() => server.stats("/metrics").aborted === 1, 5000, "the server to see the abort");
});

test("removing a target aborts its scrape on the light controller, and it is no failure", async () => {
  const server = startMetricsServer({ hang: true });
  const { fetch } = recordingWire();
  const f = fakeScraper({ intervalMs: 3_600_000, fetch });
  cleanups.push(
    () => f.scraper.stop(),
    () => server.stop(),
  );
  f.scraper.setTargets([{ name: "a", url: server.url(), engine: "vllm" }]);
  const round = f.scraper.scrapeNow();
  await waitFor(() => server.stats("/metrics").requests === 1, 5000, "the scrape to reach the server");
  f.scraper.setTargets([]);
  await round;
  expect(f.rec.errorCount("a")).toBe(0);
  await waitFor(() => server.stats("/metrics").aborted === 1, 5000, "the server to see the abort");
});
