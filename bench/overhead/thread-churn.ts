/**
 * Which of the Bun gateway's threads come and go under load (twenty-sixth pass): mimalloc
 * purges every arena's pending frees at once when a thread's heap is abandoned (a thread that
 * exits), whatever MIMALLOC_PURGE_DELAY says, so a process whose helper threads keep exiting
 * gives its freed pages back and faults them in again. Samples /proc/<pid>/task every
 * `--every` ms while wrk runs one case against the gateway as the README starts it (the
 * issue's layout: the mock pods on the proxy's core), and prints the threads seen by name,
 * how many distinct ids each name had, and the process's minor page faults over the run.
 *
 *   flock /tmp/bench.lock bun bench/overhead/thread-churn.ts [--case sse32p] [--seconds 20]
 *     [--every 20] [--gw-env "K=V ..."]
 */
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { killAllOnExit, sleep, stopAll } from "./procs.ts";
import {
  envOf,
  gatewayConfig,
  PROXY_CORE,
  splitCases,
  startBunGateway,
  startMockPods,
  wrkOn,
} from "./split-lib.ts";

const { values } = parseArgs({
  options: {
    case: { type: "string", default: "sse32p" },
    seconds: { type: "string", default: "20" },
    warmup: { type: "string", default: "10" },
    every: { type: "string", default: "20" },
    "gw-env": { type: "string", default: "" },
  },
});
const ROOT = resolve(import.meta.dir, "../..");
const WORK = mkdtempSync(join(tmpdir(), "thread-churn-"));
const log = (n: string) => join(WORK, `${n}.log`);

function tasks(pid: number): Map<number, string> {
  const out = new Map<number, string>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.set(Number(tid), readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim());
    } catch {
      // gone
    }
  }
  return out;
}

function minorFaults(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[7]);
}

killAllOnExit();
const { all, picked } = splitCases(WORK, values.case);
const c = picked[0]!;
const pods = await startMockPods(log("upstream"), ROOT, PROXY_CORE);
const gw = await startBunGateway("gw-bun", gatewayConfig(WORK, "gateway", pods.ports), {
  log: log("gw-bun"),
  root: ROOT,
  env: envOf(values["gw-env"]),
});
await wrkOn(gw, all[0]!, Number(values.warmup), log("wrk"));
await wrkOn(gw, c, Number(values.warmup), log("wrk"));
const seen = new Map<number, string>();
const faults0 = minorFaults(gw.proc.pid);
let sampling = true;
const sampler = (async () => {
  while (sampling) {
    for (const [tid, name] of tasks(gw.proc.pid)) seen.set(tid, name);
    await sleep(Number(values.every));
  }
})();
const before = new Set(tasks(gw.proc.pid).keys());
const w = await wrkOn(gw, c, Number(values.seconds), log("wrk"));
sampling = false;
await sampler;
const after = new Set(tasks(gw.proc.pid).keys());
const faults = minorFaults(gw.proc.pid) - faults0;
const byName = new Map<string, { ids: number; born: number; gone: number }>();
for (const [tid, raw] of seen) {
  const name = raw.replace(/\s*\d+$/, "");
  const e = byName.get(name) ?? { ids: 0, born: 0, gone: 0 };
  e.ids++;
  if (!before.has(tid)) e.born++;
  if (!after.has(tid)) e.gone++;
  byName.set(name, e);
}
console.log(
  `${c.id}, ${values.seconds} s, ${w.requests} requests, gw env "${values["gw-env"]}": ${faults} minor faults (${(faults / w.requests).toFixed(2)} a request)`,
);
for (const [name, e] of [...byName].sort((a, b) => b[1].born - a[1].born))
  console.log(`  ${name.padEnd(20)} ids ${e.ids}, started during the run ${e.born}, ended ${e.gone}`);
await stopAll();
