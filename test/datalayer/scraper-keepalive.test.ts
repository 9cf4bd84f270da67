import { afterEach, describe, expect, test } from "bun:test";
import { startModelDiscovery } from "../../src/endpoints/model-discovery.ts";
import { EndpointStore } from "../../src/endpoints/store.ts";
import { silentLogger } from "../../src/log.ts";
import { FakeTime } from "../helpers/fake-time.ts";
import { fakeScraper } from "./helpers/fake-scraper.ts";
import { VLLM_BODY, waitFor } from "./helpers/metrics-server.ts";
import { type RawAnswer, startRawServer } from "./helpers/raw-http.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const N = 20;

/** Scrapes one raw server `N` times on fake time; returns how many connections it accepted. */
async function scrapeTimes(answer: (path: string) => RawAnswer) {
  const server = startRawServer(answer);
  const f = fakeScraper({ intervalMs: 50, maxBackoffMs: 50 });
  cleanups.push(
    () => f.scraper.stop(),
    () => server.stop(),
  );
  f.scraper.setTargets([{ name: "a", url: server.url(), engine: "vllm" }]);
  await f.time.advanceAsync(0);
  for (let n = 1; n <= N; n++) {
    await f.untilEnded("a", n);
    await f.time.advanceAsync(50);
  }
  return { server, f };
}

describe("keep-alive: a busy pod is not asked to accept a new connection per scrape", () => {
  test(`${N} good scrapes use one connection`, async () => {
    const { server, f } = await scrapeTimes(() => ({ status: 200, body: VLLM_BODY() }));
    expect(f.rec.count("a")).toBe(N);
    expect(server.stats.closeRequested).toBe(0);
    expect(server.stats.connections).toBe(1);
  });

  test(`${N} scrapes answered 500 use one connection too (the error body is read)`, async () => {
    const { server, f } = await scrapeTimes(() => ({ status: 500, body: "overloaded\n".repeat(200) }));
    expect(f.rec.errorCount("a")).toBe(N);
    expect(server.stats.connections).toBe(1);
  });

  test("a late scrape (past timeoutMs, before it is abandoned) lands on the same connection", async () => {
    let hold = false;
    const server = startRawServer(() => ({ status: 200, body: VLLM_BODY(hold ? 7 : 1), hold }));
    const f = fakeScraper({ intervalMs: 50, timeoutMs: 100, abandonAfterMs: 1000 });
    cleanups.push(
      () => f.scraper.stop(),
      () => server.stop(),
    );
    f.scraper.setTargets([{ name: "a", url: server.url(), engine: "vllm" }]);
    await f.time.advanceAsync(0);
    await f.untilEnded("a", 1);
    hold = true;
    await f.time.advanceAsync(50); // scrape 2: the pod is busy
    await waitFor(() => server.held() === 1, 5000, "the late scrape to reach the pod");
    await f.time.advanceAsync(500); // late, not abandoned: aborting would cost the connection
    hold = false;
    server.release();
    await f.untilEnded("a", 2);
    expect(f.rec.snapshots.get("a")!.at(-1)!.waitingQueueSize).toBe(7);
    for (let n = 3; n <= 5; n++) {
      await f.time.advanceAsync(50);
      await f.untilEnded("a", n);
    }
    expect(f.rec.errorCount("a")).toBe(0);
    expect(server.stats.connections).toBe(1);
  });

  test(`${N} model-discovery rounds use one connection, errors included`, async () => {
    let fail = false;
    const server = startRawServer(() =>
      fail
        ? { status: 503, body: '{"error":"busy"}', contentType: "application/json" }
        : { status: 200, body: '{"data":[{"id":"m"}]}', contentType: "application/json" },
    );
    const store = new EndpointStore();
    store.upsert([{ name: "a", address: server.address, labels: {}, engine: "vllm", models: new Set() }]);
    const time = new FakeTime();
    let rounds = 0; // rounds ended: each arms the next round's 1000 ms timer (asks' timeouts are 2000 ms)
    const d = startModelDiscovery({
      store,
      fetch: (url, init) => fetch(url, init),
      logger: silentLogger(),
      shouldLearn: () => true,
      intervalMs: 1000,
      timeoutMs: 2000,
      setTimer: (fn, ms) => {
        if (ms === 1000) rounds++;
        return time.setTimer(fn, ms);
      },
    });
    cleanups.push(
      () => d.stop(),
      () => server.stop(),
    );
    for (let n = 1; n <= N; n++) {
      fail = n % 2 === 0;
      await waitFor(() => rounds >= n, 5000, `round ${n} to end`);
      expect(server.stats.requests).toBe(n);
      await time.advanceAsync(1000);
    }
    expect(store.serving("m").map((e) => e.name)).toEqual(["a"]);
    expect(server.stats.connections).toBe(1);
  });
});
