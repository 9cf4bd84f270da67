/**
 * How many wake-ups a tick of scrapes takes (issue 19, sixth pass): 8 targets on one
 * loopback node:http server that answers each scrape after a random 0..3 ms, scraped by
 * the scraper's own real timers every 50 ms through the runtime's pod client (Bun: the wire
 * client; Node: undici, as the entries wire them). Scrape starts more than 0.5 ms apart
 * count as separate wake-ups. Each tree's scraper in turn, twice, in one process.
 *
 *   bun bench/overhead/scrape-grid.ts --tree /tmp/base6
 *   Node: bundle it with the other tree's scraper in (a .ts import Node cannot load at run
 *   time), e.g. a copy whose `--tree` import points at /tmp/base6, then `node` the bundle.
 */
import http from "node:http";
import { parseArgs } from "node:util";
import { systemClock } from "../../src/clock.ts";
import { BUILTIN_ENGINES } from "../../src/datalayer/engines.ts";
import { createScraper, type FetchLike } from "../../src/datalayer/scraper.ts";
import { bunUpstreamFetch } from "../../src/runtime/bun-wire.ts";
import { decodingWhenEncoded, undiciFetch } from "../../src/runtime/undici-fetch.ts";

const { values } = parseArgs({
  options: {
    tree: { type: "string" },
    seconds: { type: "string", default: "6" },
  },
});
const SECONDS = Number(values.seconds);
const PAGE = "vllm:num_requests_waiting 0\nvllm:num_requests_running 1\nvllm:kv_cache_usage_perc 0.5\n";
const isBun = typeof Bun !== "undefined";
const podFetch = (isBun ? bunUpstreamFetch() : decodingWhenEncoded(undiciFetch())) as FetchLike;

const server = http
  .createServer((_req, res) => void setTimeout(() => res.end(PAGE), Math.random() * 3))
  .listen(0, "127.0.0.1");
await new Promise((resolve) => server.once("listening", resolve));
const port = (server.address() as { port: number }).port;

const variants: [string, typeof createScraper][] = [["this", createScraper]];
if (values.tree) {
  const mod = (await import(`${values.tree}/src/datalayer/scraper.ts`)) as {
    createScraper: typeof createScraper;
  };
  variants.push([values.tree, mod.createScraper]);
}

console.log(`${isBun ? "Bun" : "Node"}: 8 targets every 50 ms, answers after 0-3 ms`);
console.log("| tree | wake-ups per tick, first second | last second |");
console.log("|---|---:|---:|");
for (const [name, create] of [...variants, ...variants]) {
  const starts: number[] = [];
  const scraper = create({
    fetch: (url, init) => {
      starts.push(performance.now());
      return podFetch(url, init);
    },
    clock: systemClock,
    intervalMs: 50,
    engines: BUILTIN_ENGINES,
    onSnapshot: () => {},
  });
  const t0 = performance.now();
  scraper.setTargets(
    Array.from({ length: 8 }, (_, i) => ({
      name: `pod-${i}`,
      url: `http://127.0.0.1:${port}/metrics?pod=${i}`,
      engine: "vllm",
    })),
  );
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  scraper.stop();
  const wakeups = (from: number, to: number) => {
    const xs = starts.filter((t) => t >= t0 + from && t < t0 + to);
    let groups = 0;
    for (let i = 0; i < xs.length; i++) if (i === 0 || xs[i]! - xs[i - 1]! > 0.5) groups++;
    return (groups / (xs.length / 8)).toFixed(2);
  };
  console.log(`| ${name} | ${wakeups(0, 1000)} | ${wakeups(SECONDS * 1000 - 1000, SECONDS * 1000)} |`);
}
server.close();
process.exit(0);
