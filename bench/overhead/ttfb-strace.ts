/**
 * What the first SSE byte waits for, syscall by syscall (issue 19, twentieth pass): the
 * gateway (the README's config, scraping on or off) and the bare Bun proxy on the wire client
 * (b'), each warmed by paced streams, then traced with `strace -f -ttt` while one client
 * opens streams one at a time (20 chunks 2 ms apart, as run.ts's first-byte case). The trace
 * of each is written to `<out>/<target>.strace` and summed up: per stream, the time from the
 * client's request read to the pod call's write and from the pod's head read to the first
 * write to the client (p50 and min), and how many system calls and epoll waits fall inside
 * those two windows. strace stops the process at each call, so a window's time includes the
 * trace's own cost at its two ends (~100-200 µs here); compare targets, not absolute figures.
 * `--report` reads traces already written instead.
 *
 * Targets: gw (scraping on), gw-noscrape, gw-p-<variant> (the scheduling profile of
 * decide-profiles.ts's PROFILE_YAML, e.g. gw-p-random), bare (b').
 *
 *   flock /tmp/bench.lock bun bench/overhead/ttfb-strace.ts [--targets gw,gw-noscrape,bare]
 *     [--seconds 2] [--warmup 6] [--out /tmp/ttfb-strace] [--report]
 */
import { appendFileSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { PROFILE_YAML as PROFILES } from "./decide-profiles.ts";
import { killAllOnExit, type Proc, stop, stopAll } from "./procs.ts";
import { gatewayConfig, startBareBun, startBunGateway, startMockPods, ttfbClient } from "./split-lib.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "2" },
    warmup: { type: "string", default: "6" },
    targets: { type: "string", default: "gw,gw-noscrape,bare" },
    out: { type: "string", default: "/tmp/ttfb-strace" },
    report: { type: "boolean", default: false },
  },
});

const LINE = /^\d+ (\d+\.\d+) (\w+)\((\d+), "(.{0,16})/;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** The two windows of each stream in one `strace -f -ttt` trace (µs), and the calls inside them. */
function windows(text: string): string {
  const toPod: number[] = [];
  const toClient: number[] = [];
  let inside = 0;
  let waits = 0;
  let open: { kind: "request" | "head"; t: number } | undefined;
  for (const line of text.split("\n")) {
    const m = LINE.exec(line);
    if (!m) continue;
    const t = Number(m[1]) * 1e6;
    const [call, data] = [m[2]!, m[4]!];
    if (call === "recvfrom" && data.startsWith("POST /v1/chat")) open = { kind: "request", t };
    else if (call === "recvfrom" && data.startsWith("HTTP/1.1 200")) open = { kind: "head", t };
    else if (
      open &&
      call === "sendto" &&
      data.startsWith(open.kind === "request" ? "POST /v1/chat" : "HTTP/1.1 200")
    ) {
      (open.kind === "request" ? toPod : toClient).push(t - open.t);
      open = undefined;
    } else if (open) {
      inside++;
      if (call.startsWith("epoll")) waits++;
    }
  }
  const f = (xs: number[]) => `p50 ${median(xs).toFixed(0)} min ${Math.min(...xs).toFixed(0)} µs`;
  return `${toPod.length} streams; request read → pod call written ${f(toPod)}; pod head read → first write to the client ${f(toClient)}; ${inside} other calls inside the windows (${waits} epoll waits)`;
}

if (values.report) {
  for (const id of values.targets.split(",")) {
    console.log(`${id}: ${windows(await Bun.file(join(values.out, `${id}.strace`)).text())}`);
  }
  process.exit(0);
}
const ROOT = resolve(import.meta.dir, "../..");
const WORK = values.out;
mkdirSync(WORK, { recursive: true });
killAllOnExit();
const { ports } = await startMockPods(join(WORK, "upstream.log"), ROOT);

for (const id of values.targets.split(",")) {
  let port: number;
  let proc: Proc;
  if (id.startsWith("gw")) {
    const config = gatewayConfig(WORK, id, ports, id === "gw-noscrape");
    // gw-p-<variant>: the scheduling profile PROFILES[variant] (decide-profiles.ts), as bun-split.ts.
    if (id.startsWith("gw-p-")) {
      const profile = PROFILES[id.slice(5)];
      if (profile === undefined) throw new Error(`unknown profile variant ${id}`);
      appendFileSync(config, profile);
    }
    ({ proc, port } = await startBunGateway(id, config, { log: join(WORK, `${id}.log`), root: ROOT }));
  } else {
    ({ proc, port } = await startBareBun(id, ports, {
      flags: ["--wire"],
      log: join(WORK, `${id}.log`),
      root: ROOT,
    }));
  }
  await ttfbClient(port, values.warmup, "2");
  const untraced = JSON.parse(await ttfbClient(port, values.seconds, "1")) as { ttfbP50: number };
  const file = join(WORK, `${id}.strace`);
  const tracer = Bun.spawn(["strace", "-f", "-ttt", "-p", String(proc.pid), "-o", file], {
    stderr: "ignore",
  });
  await Bun.sleep(500);
  const traced = JSON.parse(await ttfbClient(port, values.seconds, "1")) as { ttfbP50: number };
  tracer.kill("SIGINT");
  await tracer.exited;
  console.log(
    `${id}: first chunk p50 ${untraced.ttfbP50.toFixed(3)} ms untraced, ${traced.ttfbP50.toFixed(3)} traced; ${file}`,
  );
  console.log(`  ${windows(await Bun.file(file).text())}`);
  await stop(proc);
}
await stopAll();
process.exit(0);
