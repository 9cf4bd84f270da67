/**
 * Many-pools benchmark (issue 17; run on purpose: `npm run bench:pools`). Two parts, each
 * measured side by side in one run:
 *
 *  1. Cross-talk. Two InferencePools behind one gateway, each on its own slot pods
 *     (bench/lib/slot-pod.ts), driven at once, against each pool alone (a gateway serving
 *     only it, the same arrivals): scheduling quality with the default profile (latency
 *     p50/p90 at 75 % load, requests per pod), flow control with the README's config
 *     (a priority-10 stream's p90 under a sheddable flood, 429s, where the queue is held),
 *     and a steady pool beside a flooded neighbour. Ratios near 1.0 = no cross-talk.
 *  2. Overhead. Gateway processes with 1 pool × 4 endpoints, 10 pools × 4, 1 × 40 (the
 *     same endpoints as 10 × 4 in one pool) and 1 × 64, on fast fake upstreams, the same
 *     request mix (first and last pool's models): CPU µs per request and added latency,
 *     interleaved rounds, medians (bench/lib/pool-overhead.ts).
 *
 * Knobs (env): BENCH_PARTS ("crosstalk,overhead"), BENCH_SECONDS (cross-talk arrival
 * window, default 8), BENCH_ROUNDS (overhead rounds, 3), BENCH_WRK_SECONDS (2),
 * BENCH_VARIANTS ("p1e4,p10e4,p1e40,p1e64,p1e4q,p10e4q": p<pools>e<endpoints per pool>,
 * q = no scraping), BENCH_MICRO_VARIANTS ("p1e4,p10e4,p100e4,p1e40,p1e64"), BENCH_MICRO_ROUNDS (7),
 * BENCH_MICRO_REQUESTS (4000 per batch), BENCH_PIN (1 = pin wrk and upstream to core 0, the gateway to core 1), BENCH_OUT (results file; "-" = don't write).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { crosstalkSection } from "./lib/pool-crosstalk-report.ts";
import { overheadSection } from "./lib/pool-overhead-report.ts";
import { commandLine, env, list } from "./lib/setup.ts";

const PARTS = new Set(list(env("BENCH_PARTS", "crosstalk,overhead")));
const OUT = env("BENCH_OUT", new URL("./results/many-pools.md", import.meta.url).pathname);
const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

const started = Date.now();
const loadBefore = loadavg();
const sections: string[] = [];
if (PARTS.has("crosstalk"))
  sections.push(...(await crosstalkSection({ seconds: Number(env("BENCH_SECONDS", "8")) })));
if (PARTS.has("overhead"))
  sections.push(
    ...(await overheadSection({
      rounds: Number(env("BENCH_ROUNDS", "3")),
      seconds: Number(env("BENCH_WRK_SECONDS", "2")),
      variants: list(env("BENCH_VARIANTS", "p1e4,p10e4,p1e40,p1e64,p1e4q,p10e4q")),
      micro: {
        variants: list(env("BENCH_MICRO_VARIANTS", "p1e4,p10e4,p100e4,p1e40,p1e64")),
        rounds: Number(env("BENCH_MICRO_ROUNDS", "7")),
        n: Number(env("BENCH_MICRO_REQUESTS", "4000")),
      },
    })),
  );
const minutes = (Date.now() - started) / 60_000;
const text = [
  "# Many pools: cross-talk and overhead per pool",
  "",
  `Run ${new Date().toISOString().slice(0, 16)}Z on a shared machine with 2 cores (other engineers' work running), ` +
    `Bun ${Bun.version}, ${minutes.toFixed(1)} min in all; load average ${loadBefore} before, ${loadavg()} after. Command:`,
  "",
  "```sh",
  commandLine("bench:pools", [
    "BENCH_PARTS",
    "BENCH_SECONDS",
    "BENCH_ROUNDS",
    "BENCH_WRK_SECONDS",
    "BENCH_VARIANTS",
    "BENCH_PIN",
    "BENCH_MICRO_VARIANTS",
    "BENCH_MICRO_ROUNDS",
    "BENCH_MICRO_REQUESTS",
  ]),
  "```",
  "",
  ...sections,
].join("\n");
console.log(`\n${text}`);
if (OUT !== "-") writeFileSync(OUT, text);
process.exit(0);
