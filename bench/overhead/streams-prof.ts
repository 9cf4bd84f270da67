/**
 * A JS-thread CPU profile of the Bun gateway (scraping off) and of the bare wire proxy with the
 * gateway's relay (bare-bun.ts --wire --relay) under the paced case (sse32p), one after the other,
 * each summarized by profile.ts (issue 19, fourteenth pass, "streams"). Pods and wrk on core 0,
 * the proxy on core 1. With `--strace`: no profile; the JS thread's epoll waits (timed out or
 * woken by events), writes and futex calls per stream, and the process's fds and threads
 * (`<out>/<target>.fds`), to tell what wakes the loop (STRACE_F=1 follows new threads,
 * STRACE_E sets strace's -e).
 *
 *   flock /tmp/bench.lock npx bun bench/overhead/streams-prof.ts [--seconds 6] [--warmup 6] [--case sse32p]
 *     [--targets gw,bare] [--interval 250] [--strace] [--out /tmp/streams-prof]
 */
import { mkdirSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { killAllOnExit, type Proc, stop, stopAll } from "./procs.ts";
import { analyzeProfile } from "./profile.ts";
import {
  gatewayConfig,
  splitCases,
  startBareBun,
  startBunGateway,
  startMockPods,
  wrkOn,
} from "./split-lib.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "6" },
    warmup: { type: "string", default: "6" },
    case: { type: "string", default: "sse32p" },
    targets: { type: "string", default: "gw,bare" },
    out: { type: "string", default: "/tmp/streams-prof" },
    interval: { type: "string", default: "250" },
    /** Instead of a profile: the JS thread's syscalls under strace (epoll waits that time out, writes). */
    strace: { type: "boolean", default: false },
  },
});
const ROOT = resolve(import.meta.dir, "../..");
const WORK = values.out;
mkdirSync(WORK, { recursive: true });
killAllOnExit();
const c = splitCases(WORK, values.case).picked[0]!;
const { ports } = await startMockPods(join(WORK, "upstream.log"), ROOT);
for (const id of values.targets.split(",")) {
  const dir = join(WORK, `prof-${id}`);
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir)) Bun.spawnSync(["rm", "-f", join(dir, f)]);
  const prof = values.strace
    ? []
    : ["--cpu-prof", `--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${values.interval}`];
  let port: number;
  let proc: Proc;
  if (id === "gw") {
    // Scraping off: this profile is of the stream path (scraping's cost: bun-split.ts).
    const config = gatewayConfig(WORK, "gw", ports, true);
    ({ proc, port } = await startBunGateway(id, config, {
      log: join(WORK, `${id}.log`),
      root: ROOT,
      bunFlags: prof,
    }));
  } else {
    ({ proc, port } = await startBareBun(id, ports, {
      flags: ["--wire", "--relay"],
      bunFlags: prof,
      log: join(WORK, `${id}.log`),
      root: ROOT,
    }));
  }
  const t = { id, proc, port };
  await wrkOn(t, c, Number(values.warmup), join(WORK, "wrk.log"));
  const traced = join(WORK, `${id}.strace`);
  const tracer = values.strace
    ? Bun.spawn(
        [
          "strace",
          ...(process.env.STRACE_F ? ["-f"] : []),
          "-p",
          String(proc.pid),
          "-e",
          process.env.STRACE_E ?? "trace=epoll_pwait2,epoll_pwait,epoll_wait,write,futex,timerfd_settime",
          "-o",
          traced,
        ],
        { stderr: "ignore" },
      )
    : undefined;
  const w = await wrkOn(t, c, Number(values.seconds), join(WORK, "wrk.log"));
  tracer?.kill("SIGINT");
  if (values.strace) {
    const fds = Bun.spawnSync([
      "sh",
      "-c",
      `for f in /proc/${proc.pid}/fd/*; do echo "$(basename $f) $(readlink $f)"; done; cat /proc/${proc.pid}/fdinfo/3; for t in /proc/${proc.pid}/task/*; do echo "task $(basename $t) $(cat $t/comm)"; done`,
    ]);
    await Bun.write(join(WORK, `${id}.fds`), fds.stdout);
  }
  await tracer?.exited;
  await stop(proc, 15_000);
  if (values.strace) {
    const lines = (await Bun.file(traced).text()).split("\n");
    const counts = new Map<string, number>();
    for (const l of lines) {
      const m = /^(\w+)\((.*)\)\s+=\s+(-?\d+)/.exec(l);
      if (!m) continue;
      let key = m[1]!;
      if (key.startsWith("epoll")) {
        const args = m[2]!;
        const timeout = /\{tv_sec=(\d+), tv_nsec=(\d+)\}/.exec(args);
        const ms = timeout
          ? Number(timeout[1]) * 1000 + Math.round(Number(timeout[2]) / 1e6)
          : args.endsWith("-1") || args.includes("NULL")
            ? -1
            : Number(args.split(",").at(-1));
        key +=
          m[3] === "0"
            ? ` timed out (timeout ${ms < 0 ? "none" : ms > 1000 ? ">1s" : `${ms} ms`})`
            : ` events (timeout ${ms < 0 ? "none" : ms === 0 ? "0" : ms > 1000 ? ">1s" : "short"})`;
      }
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    console.log(`\n## ${id}: ${w.requests} streams`);
    for (const [k, n] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 20))
      console.log(`  ${(n / w.requests).toFixed(3).padStart(8)} a stream  ${k}`);
    continue;
  }
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
  if (!file) {
    console.log(`${id}: no profile`);
    continue;
  }
  const s = analyzeProfile(join(dir, file), {
    root: ROOT,
    top: 40,
    skipMs: Number(values.warmup) * 1000,
    ...(id === "bare" ? { window: /^bench\/overhead\/bare-/ } : {}),
  });
  const rps = (w.requests * 1e6) / w.durationUs;
  console.log(`\n## ${id}: ${s.samples} samples over ${s.windowMs.toFixed(0)} ms, ${rps.toFixed(0)} req/s`);
  console.log("self top:");
  for (const r of s.selfTop) console.log(`  ${r.pct.toFixed(1)}%  ${r.what}  <- ${r.ours}`);
  console.log("by site:");
  for (const r of s.bySite.slice(0, 40)) console.log(`  ${r.pct.toFixed(1)}%  ${r.what}`);
  console.log("by area:");
  for (const r of s.byArea) console.log(`  ${r.pct.toFixed(1)}%  ${r.what}`);
}
await stopAll();
process.exit(0);
