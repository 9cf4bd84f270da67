/**
 * Many-pools benchmark (issue 17; run on purpose: `npm run bench:pools`). Two parts, each
 * measured side by side in one run and written to its own block of the results file:
 *
 *  1. Cross-talk (bench/lib/pool-crosstalk*.ts). Two InferencePools, each on its own slot
 *     pods (bench/lib/slot-pod.ts), each alone, on two gateways, and on one gateway, with
 *     the same arrivals: scheduling quality with the default profile (latency p50/p90 at
 *     75 % load, requests per pod), flow control with the README's config (a priority-10
 *     stream's p90 under a sheddable flood, 429s, where the queue is held), and a steady
 *     pool beside a flooded one. Interleaved rounds, medians. Ratios near 1 = no cross-talk.
 *  2. Overhead (bench/lib/pool-overhead*.ts, pool-micro.ts). Gateway processes with 1 pool
 *     × 4 endpoints, 10 × 4, 1 × 40 and 1 × 64 (with and without scraping) on fast fake
 *     upstreams, the same request mix (first and last pool's models): CPU µs per request
 *     and added latency, interleaved rounds, medians; and the request path alone in-process
 *     for 1, 10 and 100 pools.
 *
 * Knobs (env): BENCH_PARTS ("crosstalk,overhead"), BENCH_SECONDS (cross-talk arrival
 * window, 6), BENCH_XT_ROUNDS (cross-talk rounds, 3), BENCH_ROUNDS (overhead rounds, 3),
 * BENCH_WRK_SECONDS (2), BENCH_VARIANTS ("p1e4,p10e4,p1e40,p1e64,p1e4q,p10e4q,p1e64q":
 * p<pools>e<endpoints per pool>, q = no scraping), BENCH_MICRO_VARIANTS
 * ("p1e4,p10e4,p100e4,p1e40,p1e64"), BENCH_MICRO_ROUNDS (7), BENCH_MICRO_REQUESTS (4000 per
 * batch), BENCH_PIN (1 = wrk and upstream on core 0, the gateway on core 1), BENCH_OUT
 * (results file; "-" = don't write).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { crosstalkSection } from "./lib/pool-crosstalk-report.ts";
import { overheadSection } from "./lib/pool-overhead-report.ts";
import { commandLine, env, list } from "./lib/setup.ts";

const PARTS = new Set(list(env("BENCH_PARTS", "crosstalk,overhead")));
const OUT = env("BENCH_OUT", new URL("./results/many-pools.md", import.meta.url).pathname);
const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

const KNOBS = [
  "BENCH_PARTS",
  "BENCH_SECONDS",
  "BENCH_XT_ROUNDS",
  "BENCH_ROUNDS",
  "BENCH_WRK_SECONDS",
  "BENCH_VARIANTS",
  "BENCH_PIN",
  "BENCH_MICRO_VARIANTS",
  "BENCH_MICRO_ROUNDS",
  "BENCH_MICRO_REQUESTS",
];

/** A part's block: its own run line (when, load, command), so parts can run apart (each a few minutes). */
async function part(name: string, body: () => Promise<string[]>): Promise<string> {
  const started = Date.now();
  const before = loadavg();
  const lines = await body();
  const minutes = (Date.now() - started) / 60_000;
  return [
    `<!-- part:${name} -->`,
    ...lines.slice(0, 2),
    `Run ${new Date().toISOString().slice(0, 16)}Z on a shared machine with 2 cores (other engineers' work running), ` +
      `Bun ${Bun.version}, ${minutes.toFixed(1)} min; load average ${before} before, ${loadavg()} after: ` +
      `\`${commandLine("bench:pools", KNOBS)}\`.`,
    "",
    ...lines.slice(2),
    `<!-- /part:${name} -->`,
  ].join("\n");
}

/** The block of a part not run this time, kept from the results file as it was. */
function kept(name: string): string | undefined {
  if (!existsSync(OUT)) return undefined;
  const m = new RegExp(`<!-- part:${name} -->[\\s\\S]*?<!-- /part:${name} -->`).exec(
    readFileSync(OUT, "utf8"),
  );
  return m?.[0];
}

const blocks: string[] = [];
for (const name of ["crosstalk", "overhead"]) {
  const block = !PARTS.has(name)
    ? kept(name)
    : name === "crosstalk"
      ? await part(name, () =>
          crosstalkSection({
            seconds: Number(env("BENCH_SECONDS", "6")),
            rounds: Number(env("BENCH_XT_ROUNDS", "3")),
          }),
        )
      : await part(name, () =>
          overheadSection({
            rounds: Number(env("BENCH_ROUNDS", "3")),
            seconds: Number(env("BENCH_WRK_SECONDS", "2")),
            variants: list(env("BENCH_VARIANTS", "p1e4,p10e4,p1e40,p1e64,p1e4q,p10e4q,p1e64q")),
            micro: {
              variants: list(env("BENCH_MICRO_VARIANTS", "p1e4,p10e4,p100e4,p1e40,p1e64")),
              rounds: Number(env("BENCH_MICRO_ROUNDS", "7")),
              n: Number(env("BENCH_MICRO_REQUESTS", "4000")),
            },
          }),
        );
  if (block) blocks.push(block, "");
}
const text = [
  "# Many pools: cross-talk and overhead per pool",
  "",
  "`npm run bench:pools` runs both parts (about 5 and 3 minutes); `BENCH_PARTS=crosstalk` or `BENCH_PARTS=overhead` " +
    "runs one and keeps the other's block of this file as it was. Each part says when it ran, the machine's load and " +
    "its command.",
  "",
  ...blocks,
].join("\n");
console.log(`\n${text}`);
if (OUT !== "-") writeFileSync(OUT, text);
process.exit(0);
