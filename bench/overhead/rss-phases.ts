/**
 * What an allocator or runtime setting costs in memory (issue 19, eighteenth pass): two Bun
 * gateways as the README starts them, one with extra environment variables (`--env`, default
 * `MIMALLOC_PURGE_DELAY=-1`, which keeps every freed page), loaded alike through the same
 * phases (one case at a time, run.ts's wrk scripts, each gateway in turn, the other
 * SIGSTOPped), their RSS sampled every 250 ms: each phase's peak and end, then the RSS after
 * `--idle` seconds without load. Layout as bun-split.ts: mock pods and wrk on core 0, the
 * gateways on core 1.
 *
 *   flock /tmp/bench.lock bun bench/overhead/rss-phases.ts [--env "K=V ..."]
 *     [--phases c32,body30kv,sse32,c32,body30k,sse32p,c32] [--seconds 15] [--idle 30]
 */

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { BUN_START_ENV } from "../../src/runtime/bun-start-env.ts";
import { killAllOnExit, rssKb, signal, sleep, stopAll } from "./procs.ts";
import {
  activate,
  envOf,
  gatewayConfig,
  type SplitTarget,
  splitCases,
  startBunGateway,
  startMockPods,
  wrkOn,
} from "./split-lib.ts";

const { values } = parseArgs({
  options: {
    env: { type: "string", default: "MIMALLOC_PURGE_DELAY=-1" },
    phases: { type: "string", default: "c32,body30kv,sse32,c32,body30k,sse32p,c32" },
    seconds: { type: "string", default: "15" },
    idle: { type: "string", default: "30" },
  },
});
killAllOnExit();
const ROOT = resolve(import.meta.dir, "../..");
const WORK = mkdtempSync(join(tmpdir(), "rss-phases-"));
const extra = envOf(values.env);
const { ports } = await startMockPods(join(WORK, "upstream.log"), ROOT);
const targets: SplitTarget[] = [];
for (const [id, env] of [
  ["default", {}],
  ["with-env", extra],
] as const) {
  const config = gatewayConfig(WORK, id, ports);
  targets.push(
    await startBunGateway(id, config, {
      env: { ...BUN_START_ENV, ...env },
      log: join(WORK, `${id}.log`),
      root: ROOT,
    }),
  );
}
const { picked } = splitCases(WORK, values.phases);
const mib = (kb: number) => (kb / 1024).toFixed(0);
const lines = new Map<string, string[]>(targets.map((t) => [t.id, []]));
for (const phase of picked)
  for (const t of targets) {
    await activate(targets, t);
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssKb(t.proc.pid));
    }, 250);
    await wrkOn(t, phase, Number(values.seconds), join(WORK, "wrk.log"));
    clearInterval(sampler);
    lines.get(t.id)!.push(`${phase.id} ${mib(peak)} / ${mib(rssKb(t.proc.pid))}`);
  }
for (const t of targets) signal(t.proc, "SIGCONT");
await sleep(Number(values.idle) * 1000);
console.log(
  `RSS MiB, each phase's peak / end (${values.seconds} s a phase), then after ${values.idle} s idle`,
);
console.log(`with-env: ${values.env}\n`);
for (const t of targets)
  console.log(`${t.id.padEnd(9)} ${lines.get(t.id)!.join(" | ")} | idle ${mib(rssKb(t.proc.pid))}`);
await stopAll();
process.exit(0);
