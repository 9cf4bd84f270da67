/**
 * What background scraping costs an idle gateway (issue 19): CPU per second of a gateway
 * with no traffic, scraping its endpoints every 50 ms (the default) against the same
 * gateway with scraping off (`scrapeIntervalMs: 600000`), on Bun and on Node, for this
 * tree and, with --tree, other trees beside it (e.g. the session's starting commit).
 * The difference divided by the scrapes a second is the CPU of one scrape, wake-ups
 * included, which an in-process loop (scrape-micro.ts) does not see.
 *
 * Layout as bench/overhead/run.ts: the mock upstream (4 pods, vLLM-style /metrics) on
 * core 0, the gateway on core 1; one gateway runs at a time (the others are SIGSTOPped),
 * rounds alternate the variants; CPU from /proc/<pid>/task/{@literal *}/schedstat (ns).
 *
 *   flock /tmp/bench.lock bun bench/overhead/scrape-idle.ts [--seconds 5] [--rounds 3]
 *     [--runtimes bun,node] [--tree name=/path ...]
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { firstJsonLine, freePort, killAllOnExit, type Proc, signal, sleep, start, stopAll } from "./procs.ts";
import { gatewayConfig } from "./split-lib.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    rounds: { type: "string", default: "3" },
    runtimes: { type: "string", default: "bun,node" },
    tree: { type: "string", multiple: true, default: [] },
  },
});
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const ROOT = resolve(dirname(new URL(import.meta.url).pathname), "../..");
const WORK = mkdtempSync(join(tmpdir(), "scrape-idle-"));
const BUN = process.execPath;
const PODS = 4;
const trees: [string, string][] = [
  ["this", ROOT],
  ...values.tree.map((t) => t.split("=", 2) as [string, string]),
];

/** CPU time of every thread of `pid`, ns (schedstat: finer than /proc/<pid>/stat's ticks). */
function cpuNs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // thread gone
    }
  }
  return ns;
}

interface Variant {
  id: string;
  proc: Proc;
  scrape: boolean;
  samples: number[];
}

async function waitReady(port: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return;
    } catch {
      // not yet
    }
    await sleep(100);
  }
  throw new Error(`gateway on ${port} not ready`);
}

async function main(): Promise<void> {
  killAllOnExit();
  const upstream = start("upstream", [BUN, join(ROOT, "bench/overhead/upstream.ts"), "--ports", "0,0,0,0"], {
    core: "0",
    stdout: "pipe",
    log: join(WORK, "upstream.log"),
    cwd: ROOT,
  });
  const ports = (await firstJsonLine<{ ports: number[] }>(upstream)).ports.slice(0, PODS);
  const variants: Variant[] = [];
  for (const [tree, dir] of trees) {
    for (const runtime of values.runtimes.split(",")) {
      let bundle = "";
      if (runtime === "node") {
        bundle = join(WORK, `${tree}-node.mjs`);
        execFileSync(BUN, ["build", "--target=node", "src/runtime/node.ts", "--outfile", bundle], {
          cwd: dir,
          stdio: "pipe",
        });
      }
      for (const scrape of [true, false]) {
        const id = `${tree} ${runtime} scrape ${scrape ? "on" : "off"}`;
        // Its own folder (split-lib.ts): the gateway watches its config's folder; models refresh off in both.
        const file = gatewayConfig(WORK, id.replaceAll(" ", "-"), ports, !scrape, true);
        const port = await freePort();
        const cmd =
          runtime === "bun"
            ? [BUN, "run", "src/runtime/bun.ts", "--config", file, "--port", String(port)]
            : ["node", bundle, "--config", file, "--port", String(port)];
        const proc = start(id, cmd, { core: "1", stdout: "ignore", log: join(WORK, "gw.log"), cwd: dir });
        await waitReady(port);
        signal(proc, "SIGSTOP");
        variants.push({ id, proc, scrape, samples: [] });
      }
    }
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const v of variants) {
      signal(v.proc, "SIGCONT");
      await sleep(1000); // past the wake-up after SIGCONT
      const c0 = cpuNs(v.proc.pid);
      const t0 = performance.now();
      await sleep(SECONDS * 1000);
      const ms = (cpuNs(v.proc.pid) - c0) / 1e6 / ((performance.now() - t0) / 1000);
      signal(v.proc, "SIGSTOP");
      v.samples.push(ms);
      console.error(`round ${r + 1} ${v.id}: ${ms.toFixed(2)} ms CPU/s`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const scrapesPerS = PODS * (1000 / 50);
  console.log(`| gateway | CPU ms/s, scraping on | off | µs per scrape (${scrapesPerS}/s) | rounds (on) |`);
  console.log("|---|---:|---:|---:|---|");
  for (let i = 0; i < variants.length; i += 2) {
    const on = variants[i]!;
    const off = variants[i + 1]!;
    const per = ((median(on.samples) - median(off.samples)) * 1000) / scrapesPerS;
    console.log(
      `| ${on.id.replace(" scrape on", "")} | ${median(on.samples).toFixed(2)} | ${median(off.samples).toFixed(2)} | ${per.toFixed(0)} | ${on.samples.map((s) => s.toFixed(1)).join(", ")} |`,
    );
  }
  await stopAll();
}

main().catch(async (err) => {
  console.error(err);
  await stopAll();
  process.exit(1);
});
