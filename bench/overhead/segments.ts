/**
 * Where a small request's time goes on the gateway's JS thread, by segment of the request path
 * (issue 19, thirty-first pass): the gateway of a worktree with bench/overhead/segments31.patch
 * applied (timing marks, see the patch's head) under wrk's small JSON at 32 connections, its
 * per-request sums printed after each round and their medians at the end.
 *
 * Marks are wall time between two points of synchronous code, so a segment holds whatever
 * the thread did not do for itself in it: a write to a pod on the same core lets the pod run
 * inside the syscall (the layout). The default layout therefore puts the mock pods on
 * wrk's core (0) and the gateway alone on core 1; `--pod-core 1` gives the layout.
 *
 *   bun bench/overhead/segments.ts --gw-root /tmp/seg [--rounds 8] [--seconds 4] [--warmup 10] [--pod-core 0]
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { SMALL } from "./bodies.ts";
import { gatewayConfig, startBunGateway, startMockPods } from "./split-lib.ts";
import { wrkScript } from "./wrk-lua.ts";

const { values } = parseArgs({
  options: {
    "gw-root": { type: "string" },
    rounds: { type: "string", default: "8" },
    seconds: { type: "string", default: "4" },
    warmup: { type: "string", default: "10" },
    "pod-core": { type: "string", default: "0" },
  },
});
if (!values["gw-root"]) throw new Error("--gw-root <worktree with segments31.patch applied>");
const ROOT = resolve(import.meta.dir, "../..");
const work = `/tmp/segments-${process.pid}`;
const NAMES = [
  "Exchange, id, scope, read call",
  "parse apply .. admit",
  "forward to the first await",
  "after the answer",
  "deferred records",
  "schedule",
  "wire start (write)",
  "podHead",
  "wire fetch (sync)",
  "respond",
  "of 0: the Exchange and request id",
  "of 0: the scope's open",
  "of 0: authenticate",
  "deferred: the JSON answer's usage read",
  "deferred: the answer's metrics",
  "deferred: the request's series, line and recent record",
  "of 0: the body read's call",
];

const { proc: pods, ports } = await startMockPods(`${work}-pods.log`, ROOT, values["pod-core"]);
const config = gatewayConfig(work, "gw", ports);
const log = `${work}-gw.log`;
const { proc, port } = await startBunGateway("gw", config, { log, root: resolve(values["gw-root"]) });
const script = wrkScript(work, "small", SMALL);
const wrk = (seconds: string) =>
  spawnSync(
    "taskset",
    [
      "-c",
      "0",
      "wrk",
      "-t1",
      "-c32",
      `-d${seconds}s`,
      "-s",
      script,
      `http://127.0.0.1:${port}/v1/chat/completions`,
    ],
    { encoding: "utf8" },
  );
try {
  wrk(values.warmup);
  process.kill(proc.pid, "SIGUSR2"); // the warm-up's sums, dropped
  for (let r = 0; r < Number(values.rounds); r++) {
    wrk(values.seconds);
    process.kill(proc.pid, "SIGUSR2");
  }
  await Bun.sleep(300);
} finally {
  process.kill(proc.pid, "SIGTERM");
  process.kill(pods.pid, "SIGTERM");
}
const rounds = readFileSync(log, "utf8")
  .split("\n")
  .filter((l) => l.startsWith("SEG "))
  .slice(1)
  .map((l) =>
    l
      .split(" ")
      .slice(1, 1 + NAMES.length)
      .map(Number),
  );
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
console.log(`| segment | µs a request (median of ${rounds.length} rounds) | rounds |`);
console.log("|---|---:|---|");
NAMES.forEach((name, i) => {
  const xs = rounds.map((r) => r[i]!);
  console.log(`| ${i} ${name} | ${median(xs).toFixed(2)} | ${xs.map((x) => x.toFixed(1)).join(", ")} |`);
});
process.exit(0);
