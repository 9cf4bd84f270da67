/**
 * scrape-pair.ts under Node (fourteenth pass): each tree's scraper on its Node entry's pod client
 * (`decodingWhenEncoded(undiciFetch())`, as src/runtime/node.ts), against one raw loopback pod
 * (node:net, a fixed HTTP/1.1 answer), `scrapeNow()` in a loop, rounds alternating the trees;
 * CPU µs per scrape from `process.cpuUsage()`.
 *
 *   node --import tsx bench/overhead/scrape-pair-node.mts --tree /tmp/base14 [--rounds 8] [--scrapes 1500]
 */
import { createServer } from "node:net";
import { parseArgs } from "node:util";
import { MOCK_PAGE, rawAnswer } from "./scrape-pages.ts";

const { values } = parseArgs({
  options: {
    tree: { type: "string" },
    rounds: { type: "string", default: "8" },
    scrapes: { type: "string", default: "1500" },
    targets: { type: "string", default: "4" },
  },
});
if (!values.tree) throw new Error("--tree /path/of/the/other/tree is required");
const ROUNDS = Number(values.rounds);
const SCRAPES = Number(values.scrapes);
const TARGETS = Number(values.targets);
const answer = rawAnswer(MOCK_PAGE);
const server = createServer((s) => {
  s.setNoDelay(true);
  s.on("data", (d) => {
    if (d.indexOf("\r\n\r\n") >= 0) s.write(answer);
  });
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const { port } = server.address() as { port: number };

async function load(name: string, root: string) {
  const { createScraper } = await import(`${root}/src/datalayer/scraper.ts`);
  const { BUILTIN_ENGINES } = await import(`${root}/src/datalayer/engines.ts`);
  const { decodingWhenEncoded, undiciFetch } = await import(`${root}/src/runtime/undici-fetch.ts`);
  let snapshots = 0;
  const scraper = createScraper({
    fetch: decodingWhenEncoded(undiciFetch()),
    clock: { now: () => performance.now() },
    timers: false,
    engines: BUILTIN_ENGINES,
    onSnapshot: () => void snapshots++,
    onStatus: () => {},
  });
  scraper.setTargets(
    Array.from({ length: TARGETS }, (_, i) => ({
      name: `pod-${i}`,
      url: `http://127.0.0.1:${port}/metrics?pod=${i}`,
      engine: "vllm",
    })),
  );
  return {
    name,
    async run(n: number) {
      const before = snapshots;
      const cpu0 = process.cpuUsage();
      for (let i = 0; i < n; i++) await scraper.scrapeNow();
      const cpu = process.cpuUsage(cpu0);
      if (snapshots - before < n * TARGETS) throw new Error(`${name}: scrapes failed`);
      return (cpu.user + cpu.system) / (n * TARGETS);
    },
  };
}

const trees = [await load("this", new URL("../..", import.meta.url).pathname), await load("other", values.tree)];
for (const t of trees) await t.run(300);
const per: Record<string, number[]> = { this: [], other: [] };
const ratios: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? trees : [...trees].reverse();
  const got: Record<string, number> = {};
  for (const t of order) got[t.name] = await t.run(SCRAPES);
  per.this!.push(got.this!);
  per.other!.push(got.other!);
  ratios.push(got.this! / got.other!);
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(" ");
console.log(`Node, ${TARGETS} targets a round, ${SCRAPES} rounds`);
console.log(`CPU µs per scrape, this:  ${fmt(per.this!)}  (median ${med(per.this!).toFixed(1)})`);
console.log(`CPU µs per scrape, other: ${fmt(per.other!)}  (median ${med(per.other!).toFixed(1)})`);
console.log(`this / other per round: ${ratios.map((x) => x.toFixed(2)).join(" ")}  (median ${med(ratios).toFixed(2)})`);
process.exit(0);
