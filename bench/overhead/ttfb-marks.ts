/**
 * Where the first SSE byte's time goes inside the proxy, step by step (issue 19, twenty-first
 * pass): clock readings at the steps of one stream's path, from the handler's entry to the pod
 * call's write, the pod's head, and the first chunk handed to the client, while one client opens
 * streams one at a time (run.ts's first-byte case: 20 chunks 2 ms apart). Unlike a syscall trace
 * (ttfb-strace.ts) nothing stops the process, so the figures are the path's own at low load,
 * where the code runs many times slower than hot (the core idles between chunks).
 *
 * The marks are not in src: `ttfb-marks.patch` adds `globalThis.__mark?.(id)` calls to a copy
 * of the tree under test (a temporary git worktree of `--tree`, HEAD by default) and
 * `ttfb-marks-preload.ts` (preloaded) keeps the readings. A patch that no longer applies says so;
 * remake it from a tree with the marks put back (`git diff -- src bench/overhead/bare-bun.ts`).
 *
 * Targets: gw (the README's config, the Bun entry as `npm start` runs it), gw-noscrape, bare (b':
 * bare-bun.ts --wire, the gateway's own pod client; its marks end with the pod's head, mark 50,
 * since Bun's server relays its answer natively). Layout as run.ts: the client on core 0, the
 * proxy on core 1, the mock pods (upstream.ts) on `--pod-core` (0 as run.ts's default; 1 is the
 * issue's layout).
 *
 *   flock /tmp/bench.lock bun bench/overhead/ttfb-marks.ts [--targets gw,bare] [--rounds 3]
 *     [--warmup 25] [--seconds 5] [--pod-core 0] [--tree <commit>]
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { killAllOnExit, type Proc, stop } from "./procs.ts";
import {
  gatewayConfig,
  LOAD_CORE,
  median,
  startBareBun,
  startBunGateway,
  startMockPods,
  ttfbClient,
} from "./split-lib.ts";

const { values } = parseArgs({
  options: {
    targets: { type: "string", default: "gw,bare" },
    rounds: { type: "string", default: "3" },
    warmup: { type: "string", default: "25" },
    seconds: { type: "string", default: "5" },
    "pod-core": { type: "string", default: LOAD_CORE },
    tree: { type: "string", default: "HEAD" },
    out: { type: "string", default: "/tmp/ttfb-marks" },
  },
});

/** What each mark stands for (the patch's ids). */
const LEGEND: Record<string, string> = {
  "0": "handler entered",
  "1": "request id, Exchange",
  "2": "scope opened",
  "3": "authenticated",
  "4": "body read asked",
  "10": "body read",
  "12": "parsed, validated",
  "14": "routed",
  "16": "rewrite to accepted",
  "18": "admitted",
  "18.1": "schedule: pin / home checked",
  "18.2": "usable endpoints",
  "18.3": "scheduler entered",
  "18.4": "context made",
  "18.5": "scorer 1",
  "18.55": "scorer 2",
  "18.6": "scorer 3",
  "18.7": "scorers done",
  "18.8": "picked",
  "18.9": "schedule returned",
  "20": "scheduled",
  "21": "usage asked",
  "22": "pod body",
  "23": "pod head lines",
  "30": "attempt called",
  "31": "attempt's controller",
  "33": "wire fetch entered",
  "34": "request bytes",
  "40": "pod call written",
  "50": "pod's head in",
  "52": "parsed",
  "54": "chunks handed on",
  "56": "attempt resumed",
  "58": "first chunk in",
  "60": "respond",
  "61": "accounting",
  "62": "answer end held",
  "63": "answer headers",
  "64": "our headers, hooks",
  "65": "request id set",
  "67": "tap",
  "68": "relay made",
  "69": "answer made, pipeline resumed",
  "70": "handler returns",
  "90": "direct stream pulled",
  "99": "first chunk sent",
};

const ROOT = resolve(import.meta.dir, "../..");
const WORK = values.out;
mkdirSync(WORK, { recursive: true });
killAllOnExit();

// The tree under test with the marks put in.
const tree = mkdtempSync(join(tmpdir(), "ttfb-marks-tree-"));
execFileSync("git", ["worktree", "add", "-q", "--detach", tree, values.tree], { cwd: ROOT });
const cleanup = () => {
  try {
    execFileSync("git", ["worktree", "remove", "--force", tree], { cwd: ROOT });
  } catch {
    rmSync(tree, { recursive: true, force: true });
  }
};
process.on("exit", cleanup);
try {
  execFileSync("git", ["apply", join(import.meta.dir, "ttfb-marks.patch")], { cwd: tree });
} catch {
  throw new Error(`ttfb-marks.patch does not apply to ${values.tree}: remake it (see the header)`);
}
symlinkSync(join(ROOT, "node_modules"), join(tree, "node_modules"));
const preload = join(import.meta.dir, "ttfb-marks-preload.ts");

const { proc: pods, ports } = await startMockPods(join(WORK, "upstream.log"), tree, values["pod-core"]);

interface Target {
  id: string;
  proc: Proc;
  port: number;
  out: string;
  last: number;
}
const targets: Target[] = [];
for (const id of values.targets.split(",")) {
  const out = join(WORK, `${id}.json`);
  const last = id.startsWith("gw") ? 99 : 50;
  const env = { MARKS_OUT: out, MARKS_LAST: String(last) };
  const log = join(WORK, `${id}.log`);
  if (id.startsWith("gw")) {
    const config = gatewayConfig(WORK, id, ports, id === "gw-noscrape");
    // `--preload=<file>`: a separate argument would take `run` as a second preload.
    const gw = await startBunGateway(id, config, {
      log,
      root: tree,
      env,
      bunFlags: [`--preload=${preload}`],
    });
    targets.push({ ...gw, out, last });
  } else if (id === "bare") {
    const bare = await startBareBun(id, ports, {
      flags: ["--wire"],
      bunFlags: [`--preload=${preload}`],
      log,
      root: tree,
      env,
    });
    targets.push({ ...bare, out, last });
  } else throw new Error(`unknown target ${id} (gw, gw-noscrape, bare)`);
}
for (const t of targets) await ttfbClient(t.port, values.warmup, "2");

/** Per target: the client's p50 (ms) and each step's median (µs), one entry a round. */
interface Result {
  p50: number[];
  steps: Map<string, number[]>;
}
const results = new Map<string, Result>();
const span = (rec: Record<number, number>[], a: number, b: number) =>
  median(rec.filter((x) => x[a] !== undefined && x[b] !== undefined).map((x) => (x[b]! - x[a]!) * 1000));
for (let r = 0; r < Number(values.rounds); r++) {
  for (const t of targets) {
    await ttfbClient(t.port, "2", "1"); // settles the switch from the other target
    process.kill(t.proc.pid, "SIGUSR2"); // forget those streams
    await Bun.sleep(200);
    const c = JSON.parse(await ttfbClient(t.port, values.seconds, "1")) as { ttfbP50: number; n: number };
    process.kill(t.proc.pid, "SIGUSR2");
    await Bun.sleep(300);
    const rec = JSON.parse(readFileSync(t.out, "utf8")) as Record<number, number>[];
    const ids = [...new Set(rec.flatMap((x) => Object.keys(x).map(Number)))].sort((a, b) => a - b);
    const res: Result = results.get(t.id) ?? { p50: [], steps: new Map() };
    results.set(t.id, res);
    res.p50.push(c.ttfbP50);
    const parts: string[] = [];
    const add = (key: string, v: number) => res.steps.set(key, [...(res.steps.get(key) ?? []), v]);
    const spans: [string, number, number][] = [
      ["0→40", 0, 40],
      ["40→50", 40, 50],
      [`50→${t.last}`, 50, t.last],
    ];
    for (const [key, a, b] of spans) if (a !== b) add(key, span(rec, a, b));
    for (let k = 1; k < ids.length; k++) {
      const v = span(rec, ids[k - 1]!, ids[k]!);
      add(`${ids[k - 1]}→${ids[k]}`, v);
      parts.push(`${ids[k - 1]}→${ids[k]} ${v.toFixed(0)}`);
    }
    console.log(
      `round ${r + 1} ${t.id}: first chunk p50 ${c.ttfbP50.toFixed(3)} ms (${rec.length} streams marked); ${parts.join(", ")}`,
    );
  }
}
for (const t of targets) await stop(t.proc);
await stop(pods);

console.log(
  `\nmedian over ${values.rounds} rounds, µs (one client, one stream at a time; pods on core ${values["pod-core"]})\n`,
);
console.log(`| step | ${targets.map((t) => t.id).join(" | ")} |`);
console.log(`|---|${targets.map(() => "---:").join("|")}|`);
console.log(
  `| first chunk p50 at the client (ms) | ${targets.map((t) => median(results.get(t.id)!.p50).toFixed(3)).join(" | ")} |`,
);
const SUMMARY = ["0→40", "40→50", "50→99"];
for (const k of SUMMARY) {
  const [a, b] = k.split("→");
  const cells = targets.map((t) => {
    const xs = results.get(t.id)!.steps.get(k === "50→99" ? `50→${t.last}` : k);
    return xs ? median(xs).toFixed(0) : "";
  });
  console.log(`| **${LEGEND[a!]} → ${LEGEND[b!]}** | ${cells.join(" | ")} |`);
}
const steps = [...new Set(targets.flatMap((t) => [...results.get(t.id)!.steps.keys()]))]
  .filter((k) => !SUMMARY.includes(k) && k !== "50→50")
  .sort((x, y) => Number(x.split("→")[0]) - Number(y.split("→")[0]));
for (const k of steps) {
  const b = k.split("→")[1]!;
  const cells = targets.map((t) => {
    const xs = results.get(t.id)!.steps.get(k);
    return xs ? median(xs).toFixed(0) : "";
  });
  console.log(`| ${k}: ${LEGEND[b] ?? "?"} | ${cells.join(" | ")} |`);
}
process.exit(0);
