/**
 * Whole scrapes, this tree against another (fourteenth pass): each tree's own scraper on its
 * own Bun wire client (the Bun entry's `bunUpstreamFetch()`), against one loopback pod that
 * answers from a raw `Bun.listen` socket (a fixed HTTP/1.1 answer, so the pod side costs
 * little of the process's CPU), `scrapeNow()` in a loop. Rounds alternate the trees (A B A B);
 * CPU µs per scrape from `process.cpuUsage()` (all threads), and per-round ratios.
 *
 *   bun bench/overhead/scrape-pair.ts --tree /tmp/base14 [--rounds 8] [--scrapes 2000]
 *     [--page mock|fixture|full] [--targets 4] [--by-name]
 *
 * --by-name: the pod answers a request with `name[]` parameters as prometheus_client does
 * (those samples only, with their HELP and TYPE lines), and both scrapers are made with
 * `byName: true` (a tree without the option asks in full, as before it).
 */
import { parseArgs } from "node:util";
import { VLLM_METRICS } from "../../test/datalayer/fixtures/vllm.ts";
import { fullPage, MOCK_PAGE, rawAnswer } from "./scrape-pages.ts";

const { values } = parseArgs({
  options: {
    tree: { type: "string" },
    rounds: { type: "string", default: "8" },
    scrapes: { type: "string", default: "2000" },
    page: { type: "string", default: "mock" },
    /** Targets scraped together per `scrapeNow()` (a tick of the grid: 4 pods). */
    targets: { type: "string", default: "4" },
    "by-name": { type: "boolean", default: false },
  },
});
if (!values.tree) throw new Error("--tree /path/of/the/other/tree is required");
const ROUNDS = Number(values.rounds);
const SCRAPES = Number(values.scrapes);
const TARGETS = Number(values.targets);
const PAGES: Record<string, () => string> = {
  mock: () => MOCK_PAGE,
  fixture: () => VLLM_METRICS,
  full: fullPage,
};
const page = PAGES[values.page];
if (page === undefined) throw new Error(`--page: one of ${Object.keys(PAGES).join(", ")}`);
const text = page();
const answer = rawAnswer(text);
/** The answer to a request line asking by name (`?name[]=…`), made once per query. */
const restricted = new Map<string, Buffer>();
function answerTo(requestLine: string): Buffer {
  if (!values["by-name"] || !requestLine.includes("name%5B%5D=")) return answer;
  const q = requestLine.indexOf("?");
  const query = requestLine.slice(q + 1, requestLine.indexOf(" ", q));
  let made = restricted.get(query);
  if (made === undefined) {
    const names = new Set(new URLSearchParams(query).getAll("name[]"));
    const lines: string[] = [];
    let header: string[] = [];
    for (const line of text.split("\n")) {
      if (line.startsWith("#")) {
        if (line.startsWith("# HELP")) header = [];
        header.push(line);
      } else if (names.has(line.slice(0, line.search(/[{ ]/)))) {
        lines.push(...header, line);
        header = [];
      }
    }
    made = rawAnswer(lines.length === 0 ? "" : `${lines.join("\n")}\n`);
    restricted.set(query, made);
  }
  return made;
}
/** What the kernel did not take of an answer yet, by socket (a full page is ~160 KB). */
const unsent = new WeakMap<object, Uint8Array>();
const send = (socket: { write(b: Uint8Array): number }, bytes: Uint8Array) => {
  const wrote = socket.write(bytes);
  if (wrote < bytes.byteLength) unsent.set(socket, bytes.subarray(Math.max(0, wrote)));
  else unsent.delete(socket);
};
const server = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    data(socket, data) {
      // One request a data callback (the scraper sends one at a time per connection).
      if (data.indexOf("\r\n\r\n") >= 0)
        send(socket, answerTo(data.toString("latin1", 0, data.indexOf("\r\n"))));
    },
    drain(socket) {
      const rest = unsent.get(socket);
      if (rest !== undefined) send(socket, rest);
    },
  },
});

interface Tree {
  name: string;
  run(n: number): Promise<number>;
}

async function load(name: string, root: string): Promise<Tree> {
  const { createScraper } = (await import(
    `${root}/src/datalayer/scraper.ts`
  )) as typeof import("../../src/datalayer/scraper.ts");
  const { BUILTIN_ENGINES } = (await import(
    `${root}/src/datalayer/engines.ts`
  )) as typeof import("../../src/datalayer/engines.ts");
  const { bunUpstreamFetch } = (await import(
    `${root}/src/runtime/bun-wire.ts`
  )) as typeof import("../../src/runtime/bun-wire.ts");
  const { systemClock } = (await import(`${root}/src/clock.ts`)) as typeof import("../../src/clock.ts");
  let snapshots = 0;
  const scraper = createScraper({
    fetch: bunUpstreamFetch() as never,
    clock: systemClock,
    timers: false,
    engines: BUILTIN_ENGINES,
    byName: values["by-name"],
    onSnapshot: () => void snapshots++,
    onStatus: () => {},
  });
  scraper.setTargets(
    Array.from({ length: TARGETS }, (_, i) => ({
      name: `pod-${i}`,
      url: `http://127.0.0.1:${server.port}/metrics?pod=${i}`,
      engine: "vllm",
    })),
  );
  return {
    name,
    async run(n) {
      const before = snapshots;
      const cpu0 = process.cpuUsage();
      for (let i = 0; i < n; i++) await scraper.scrapeNow();
      const cpu = process.cpuUsage(cpu0);
      if (snapshots - before < n * TARGETS) throw new Error(`${name}: scrapes failed`);
      return (cpu.user + cpu.system) / (n * TARGETS);
    },
  };
}

const trees = [
  await load("this", new URL("../..", import.meta.url).pathname),
  await load("other", values.tree),
];
for (const t of trees) await t.run(300); // warm-up: JIT, connections
const per: Record<string, number[]> = { this: [], other: [] };
const ratios: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? trees : [...trees].reverse();
  const got: Record<string, number> = {};
  for (const t of order) got[t.name] = await t.run(SCRAPES);
  per["this"]!.push(got["this"]!);
  per["other"]!.push(got["other"]!);
  ratios.push(got["this"]! / got["other"]!);
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(" ");
console.log(
  `page ${values.page} (${answer.byteLength} B answer${values["by-name"] ? `; by name ${[...restricted.values()].map((b) => b.byteLength).join(", ")} B` : ""}), ${TARGETS} targets a round, ${SCRAPES} rounds`,
);
console.log(
  `CPU µs per scrape, this:  ${fmt(per["this"]!)}  (median ${med(per["this"]!).toFixed(1)}, best ${Math.min(...per["this"]!).toFixed(1)})`,
);
console.log(
  `CPU µs per scrape, other: ${fmt(per["other"]!)}  (median ${med(per["other"]!).toFixed(1)}, best ${Math.min(...per["other"]!).toFixed(1)})`,
);
console.log(
  `this / other per round: ${ratios.map((x) => x.toFixed(2)).join(" ")}  (median ${med(ratios).toFixed(2)})`,
);
server.stop(true);
process.exit(0);
