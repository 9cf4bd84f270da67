/**
 * What one background scrape costs, in process (issue 19: scraping every endpoint every
 * 50 ms is CPU the request path shares). Two parts:
 *
 *  1. Parsing alone: `parsePromText` with the vLLM mapping's `wanted` filter, then
 *     `missingMetrics` + `toSnapshot`, on three pages: the overhead benchmark's mock (three
 *     gauges), the test fixture (a small vLLM page) and a full-size vLLM V1 page (Python
 *     runtime metrics, ~20 histograms of ~30 buckets, counters with `_created`; ~70 KB, the
 *     size a real pod serves). Best of 7 batches, µs per page.
 *  2. Whole scrapes: the real scraper (`createScraper`, the gateway's fetch options) against
 *     a loopback Bun.serve answering each page, `scrapeNow()` in a loop, CPU µs per scrape
 *     from `process.cpuUsage()` (both threads: Bun's HTTP client thread is in it).
 *
 *  3. The grid on real timers (sixth pass, --grid): 8 targets against one loopback server,
 *     scraped by the scraper's own timers every --interval ms for --seconds; how many wake-ups
 *     (scrape starts more than 0.5 ms after the previous one) each tick of the 8 took, first
 *     and last second, and the CPU per scrape. --tree runs another tree's scraper (e.g. the
 *     session's start) for a before → after in one run; --jitter N: each answer waits a random
 *     0..N ms (pods answer at different speeds).
 *
 *   bun bench/overhead/scrape-micro.ts [--scrapes 3000] [--grid [--interval 5] [--seconds 4] [--tree /path]]
 */
import { parseArgs } from "node:util";
import { systemClock } from "../../src/clock.ts";
import { BUILTIN_ENGINES, missingMetrics, toSnapshot, wantedMetrics } from "../../src/datalayer/engines.ts";
import { parsePromText } from "../../src/datalayer/prom-text.ts";
import { createScraper, type FetchLike } from "../../src/datalayer/scraper.ts";
import { bunUpstreamFetch } from "../../src/runtime/bun-wire.ts";
import { VLLM_METRICS } from "../../test/datalayer/fixtures/vllm.ts";
import { bestNsPerCall } from "./best-of.ts";
import { fullPage, MOCK_PAGE } from "./scrape-pages.ts";

const { values } = parseArgs({
  options: {
    scrapes: { type: "string", default: "3000" },
    /** Which pod client the whole scrapes use: Bun's fetch, the gateway's wire client (the Bun entry's), or both. */
    client: { type: "string", default: "fetch,wire" },
    /** Only the whole scrapes of the mock page (for a CPU profile of one scrape). */
    "mock-only": { type: "boolean", default: false },
    /** Only the grid on real timers (part 3). */
    grid: { type: "boolean", default: false },
    interval: { type: "string", default: "5" },
    seconds: { type: "string", default: "4" },
    tree: { type: "string", multiple: true, default: [] },
    /** The server answers each scrape after a random 0..jitter ms (pods answer at different speeds). */
    jitter: { type: "string", default: "0" },
  },
});
const SCRAPES = Number(values.scrapes);
const vllm = BUILTIN_ENGINES["vllm"]!;
const wanted = wantedMetrics(vllm);

const PAGES: Record<string, string> = {
  "mock (3 gauges)": MOCK_PAGE,
  "vLLM fixture": VLLM_METRICS,
  "full vLLM page": fullPage(),
};

if (values.grid) {
  await gridRuns();
  process.exit(0);
}

const perOp = (fn: () => unknown) => bestNsPerCall(fn) / 1e3;

console.log("| page | bytes | lines | parse + snapshot µs |");
console.log("|---|---:|---:|---:|");
for (const [name, text] of Object.entries(values["mock-only"] ? {} : PAGES)) {
  const us = perOp(() => {
    const { families } = parsePromText(text, wanted);
    missingMetrics(families, vllm);
    return toSnapshot(families, vllm, 0);
  });
  console.log(`| ${name} | ${text.length} | ${text.split("\n").length} | ${us.toFixed(2)} |`);
}

// What each scrape allocates for its call (fifth pass): a platform AbortController (signal and
// the client's abort listener) against the light one the gateway's pod clients offer, and a
// Headers built from a plain object against the shared one the scraper passes.
if (!values["mock-only"]) {
  const noop = () => {};
  const shared = new Headers({ accept: "text/plain" });
  const light = (bunUpstreamFetch() as unknown as Record<symbol, () => { signal: unknown }>)[
    Symbol.for("inference-gateway.abortController")
  ]!;
  const rows: [string, () => unknown][] = [
    [
      "platform AbortController + signal + add/remove listener",
      () => {
        const s = new AbortController().signal;
        s.addEventListener("abort", noop);
        s.removeEventListener("abort", noop);
        return s;
      },
    ],
    ["the pod client's light controller", () => light().signal],
    ["new Headers(plain object) + forEach", () => new Headers({ accept: "text/plain" }).forEach(noop)],
    ["shared Headers + forEach", () => shared.forEach(noop)],
  ];
  console.log("\n| per scrape | ns |");
  console.log("|---|---:|");
  for (const [name, fn] of rows) console.log(`| ${name} | ${(perOp(fn) * 1e3).toFixed(0)} |`);
}

console.log("\n| page | client | whole scrape, CPU µs (process, all threads) | wall µs |");
console.log("|---|---|---:|---:|");
const CLIENTS: Record<string, () => FetchLike | undefined> = {
  fetch: () => undefined,
  wire: () => bunUpstreamFetch() as FetchLike,
};
const pages = values["mock-only"] ? { "mock (3 gauges)": MOCK_PAGE } : PAGES;
for (const [name, text] of Object.entries(pages))
  for (const client of values.client.split(",")) await wholeScrapes(name, text, client);

async function wholeScrapes(name: string, text: string, client: string): Promise<void> {
  const fetch = CLIENTS[client]?.();
  const body = new TextEncoder().encode(text);
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: () => new Response(body, { headers: { "content-type": "text/plain; version=0.0.4" } }),
  });
  let snapshots = 0;
  const scraper = createScraper({
    ...(fetch ? { fetch } : {}),
    clock: systemClock,
    timers: false,
    engines: BUILTIN_ENGINES,
    onSnapshot: () => void snapshots++,
  });
  scraper.setTargets([{ name: "pod", url: `http://127.0.0.1:${server.port}/metrics`, engine: "vllm" }]);
  for (let i = 0; i < 300; i++) await scraper.scrapeNow(); // warm-up (JIT, connection)
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < SCRAPES; i++) await scraper.scrapeNow();
  const wall = ((performance.now() - t0) * 1e3) / SCRAPES;
  const cpu = process.cpuUsage(cpu0);
  scraper.stop();
  server.stop(true);
  if (snapshots < SCRAPES) throw new Error(`only ${snapshots} of ${SCRAPES} scrapes succeeded`);
  // The server's CPU is in the same process: half of a scrape's round trip is the answer.
  console.log(
    `| ${name} | ${client} | ${((cpu.user + cpu.system) / SCRAPES).toFixed(1)} | ${wall.toFixed(1)} |`,
  );
}

/** Part 3: wake-ups per tick of 8 targets on the scraper's own (real) timers, per tree. */
async function gridRuns(): Promise<void> {
  const root = new URL("../..", import.meta.url).pathname;
  const trees = [root, ...values.tree];
  const intervalMs = Number(values.interval);
  const seconds = Number(values.seconds);
  const body = new TextEncoder().encode(MOCK_PAGE);
  const jitter = Number(values.jitter);
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: async () => {
      if (jitter > 0) await Bun.sleep(Math.random() * jitter);
      return new Response(body);
    },
  });
  console.log(`jitter: answers after 0-${jitter} ms`);
  console.log(
    `| tree | interval | wake-ups per tick of 8 targets, first second | last second | CPU µs per scrape (both sides) |`,
  );
  console.log("|---|---:|---:|---:|---:|");
  for (const tree of trees) {
    const mod = (await import(
      `${tree}/src/datalayer/scraper.ts`
    )) as typeof import("../../src/datalayer/scraper.ts");
    const starts: number[] = [];
    const base = bunUpstreamFetch() as FetchLike;
    const scraper = mod.createScraper({
      fetch: (url, init) => {
        starts.push(performance.now());
        return base(url, init);
      },
      clock: systemClock,
      intervalMs,
      engines: BUILTIN_ENGINES,
      onSnapshot: () => {},
    });
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    scraper.setTargets(
      Array.from({ length: 8 }, (_, i) => ({
        name: `pod-${i}`,
        url: `http://127.0.0.1:${server.port}/metrics?pod=${i}`,
        engine: "vllm",
      })),
    );
    await Bun.sleep(seconds * 1000);
    scraper.stop();
    const cpu = process.cpuUsage(cpu0);
    const wakeups = (from: number, to: number) => {
      const xs = starts.filter((t) => t >= t0 + from && t < t0 + to);
      let groups = 0;
      for (let i = 0; i < xs.length; i++) if (i === 0 || xs[i]! - xs[i - 1]! > 0.5) groups++;
      return (groups / (xs.length / 8)).toFixed(2);
    };
    const end = seconds * 1000;
    console.log(
      `| ${tree === root ? "this" : tree} | ${intervalMs} ms | ${wakeups(0, 1000)} | ${wakeups(end - 1000, end)} | ${((cpu.user + cpu.system) / starts.length).toFixed(1)} |`,
    );
  }
  server.stop(true);
}
