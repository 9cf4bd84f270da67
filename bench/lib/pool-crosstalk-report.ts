/**
 * Part 1 of the many-pools benchmark: runs each pool alone and the two together, under
 * the default profile, under the README's flow-control config, and beside a flooded
 * neighbour; returns the results file's section (tables with the together ÷ alone ratios).
 */
import { readmeFlowConfig } from "./configs.ts";
import { fmt } from "./load.ts";
import { crosstalkRun, type Load, type PoolFigures, type RunResult } from "./pool-crosstalk.ts";
import { capacity, type PoolSpec } from "./pool-fleet.ts";

export const POOL_A: PoolSpec = { name: "pool-a", model: "model-a", pods: 4, slots: 4, serviceMs: 400 };
export const POOL_B: PoolSpec = { name: "pool-b", model: "model-b", pods: 3, slots: 2, serviceMs: 200 };

const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? (a / b).toFixed(2) : "-");

type Loads = [PoolSpec, Load][];

interface Planned {
  key: string;
  groups: PoolSpec[][];
  loads: Loads;
  picker: string | undefined;
}

const median = (xs: number[]) => {
  const v = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return v.length === 0
    ? Number.NaN
    : v.length % 2
      ? v[(v.length - 1) / 2]!
      : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
};
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** One run's figures from its rounds: medians of the latencies and gauges, sums of the counts. */
function merge(rounds: RunResult[]): RunResult {
  const figures = new Map<string, PoolFigures>();
  for (const name of rounds[0]!.figures.keys()) {
    const fs = rounds.map((r) => r.figures.get(name)!);
    const m = (k: "p50" | "p90" | "imbalance" | "podWaiting" | "gatewayQueued") =>
      median(fs.map((x) => x[k]));
    const t = (k: "n" | "ok" | "rejected" | "strays") => sum(fs.map((x) => x[k]));
    figures.set(name, {
      n: t("n"),
      ok: t("ok"),
      rejected: t("rejected"),
      strays: t("strays"),
      p50: m("p50"),
      p90: m("p90"),
      imbalance: m("imbalance"),
      podWaiting: m("podWaiting"),
      gatewayQueued: m("gatewayQueued"),
      perPod: fs[0]!.perPod.map((_, i) => sum(fs.map((x) => x.perPod[i] ?? 0))),
    });
  }
  return {
    figures,
    lagP99: median(rounds.map((r) => r.lagP99)),
    cpuPct: median(rounds.map((r) => r.cpuPct)),
  };
}

export async function crosstalkSection(opts: { seconds: number; rounds: number }): Promise<string[]> {
  const flow = readmeFlowConfig();
  const warmupS = Math.min(2, opts.seconds / 4);
  const [A, B] = [POOL_A, POOL_B];
  // Each scenario: each pool alone (only its load), both on two gateways (load-matched), both on one gateway.
  const plan: Planned[] = [];
  const scenario = (name: string, loads: Loads, picker: string | undefined, withAlone: boolean) => {
    if (withAlone)
      for (const [pool, load] of loads)
        plan.push({ key: `${name}: ${pool.name} alone`, groups: [[pool]], loads: [[pool, load]], picker });
    plan.push({ key: `${name}: two gateways`, groups: [[A], [B]], loads, picker });
    plan.push({ key: `${name}: one gateway`, groups: [[A, B]], loads, picker });
    return name;
  };
  const names = {
    sched: scenario(
      "scheduling",
      [
        [A, "steady"],
        [B, "steady"],
      ],
      undefined,
      true,
    ),
    flow: scenario(
      "flow",
      [
        [A, "priority"],
        [B, "priority"],
      ],
      flow,
      true,
    ),
    besideB: scenario(
      "beside B flooded",
      [
        [A, "steady"],
        [B, "priority"],
      ],
      flow,
      false,
    ),
    besideA: scenario(
      "beside A flooded",
      [
        [A, "priority"],
        [B, "steady"],
      ],
      flow,
      false,
    ),
  };
  // Rounds interleave: every planned run once per round, so a burst of machine noise hits one round of each.
  const got = new Map<string, RunResult[]>();
  for (let round = 1; round <= opts.rounds; round++)
    for (const p of plan) {
      const r = await crosstalkRun({
        groups: p.groups,
        loads: p.loads.map(([pool, load]) => ({ pool, load })),
        picker: p.picker,
        seconds: opts.seconds,
        warmupS,
      });
      got.set(p.key, [...(got.get(p.key) ?? []), r]);
      const parts = [...r.figures].map(
        ([name, f]) =>
          `${name} p50 ${fmt(f.p50)} p90 ${fmt(f.p90)} ok ${f.ok}/${f.n} 429 ${f.rejected} per pod [${f.perPod}] strays ${f.strays} gw queue ${f.gatewayQueued.toFixed(1)}`,
      );
      console.log(
        `round ${round} ${p.key}: ${parts.join(" | ")} lag p99 ${r.lagP99.toFixed(1)} ms, CPU ${r.cpuPct.toFixed(0)} %`,
      );
    }
  const runsOf = (name: string) => ({
    alone: new Map(
      [A, B].flatMap((p) => {
        const rs = got.get(`${name}: ${p.name} alone`);
        return rs ? [[p.name, merge(rs)] as const] : [];
      }),
    ),
    apart: merge(got.get(`${name}: two gateways`)!),
    together: merge(got.get(`${name}: one gateway`)!),
  });
  const sched = runsOf(names.sched);
  const flowRuns = runsOf(names.flow);
  const besideB = runsOf(names.besideB);
  const besideA = runsOf(names.besideA);
  const strays = sum([...got.values()].flat().flatMap((r) => [...r.figures.values()].map((x) => x.strays)));

  type Runs = ReturnType<typeof runsOf>;
  const f = (r: RunResult, p: PoolSpec) => r.figures.get(p.name)!;
  const noise = (r: RunResult) => `${r.lagP99.toFixed(0)} | ${r.cpuPct.toFixed(0)}`;
  const rows = (p: PoolSpec, runs: Runs, cells: (x: PoolFigures) => string) => {
    const apart = f(runs.apart, p);
    const alone = runs.alone.get(p.name);
    const line = (label: string, r: RunResult) => {
      const x = f(r, p);
      const vsAlone = alone ? ratio(x.p90, f(alone, p).p90) : "-";
      return `| ${p.name} | ${label} | ${cells(x)} | ${vsAlone} | **${ratio(x.p90, apart.p90)}** | ${noise(r)} |`;
    };
    return [
      ...(alone ? [line("alone", alone)] : []),
      line("two gateways", runs.apart),
      line("one gateway", runs.together),
    ];
  };
  const sched_ = (x: PoolFigures) =>
    `${x.ok}/${x.n} | ${fmt(x.p50)} | ${fmt(x.p90)} | ${x.perPod.join(", ")}${x.strays ? ` (+${x.strays} on another pool's pods)` : ""} | ${x.imbalance.toFixed(2)} | ${x.podWaiting.toFixed(2)}`;
  const flow_ = (x: PoolFigures) =>
    `${x.ok}/${x.n} | ${fmt(x.p50)} | ${fmt(x.p90)} | ${x.rejected} | ${x.gatewayQueued.toFixed(1)} | ${x.podWaiting.toFixed(2)}`;
  const tail = "p90 ÷ alone | p90 ÷ two gateways | lag p99 ms | process CPU %";
  const schedHead = [
    `| pool | run | ok / sent | p50 ms | p90 ms | requests per pod | busiest ÷ mean | pods' mean waiting | ${tail} |`,
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  // Summary: one gateway ÷ two gateways (cross-talk) against alone ÷ two gateways (the noise), p50 and p90.
  const pairs: [PoolSpec, Runs][] = [
    [A, sched],
    [B, sched],
    [A, flowRuns],
    [B, flowRuns],
    [A, besideB],
    [B, besideA],
  ];
  const spread = (xs: number[]) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
  const ratios = (pick: (x: PoolFigures) => number, which: (r: Runs, p: PoolSpec) => RunResult[]) =>
    pairs.flatMap(([p, r]) => which(r, p).map((x) => pick(f(x, p)) / pick(f(r.apart, p))));
  const together = (r: Runs) => [r.together];
  const alone = (r: Runs, p: PoolSpec) => {
    const x = r.alone.get(p.name);
    return x ? [x] : [];
  };
  const summary = [
    `**Summary.** One gateway ÷ two gateways, over the ${pairs.length} pool figures below: p50 ${spread(ratios((x) => x.p50, together))}, ` +
      `p90 ${spread(ratios((x) => x.p90, together))}; for scale, the same pool alone ÷ two gateways (the run-to-run noise ` +
      `of this setup): p50 ${spread(ratios((x) => x.p50, alone))}, p90 ${spread(ratios((x) => x.p90, alone))}. ` +
      `Requests answered by another pool's pod: ${strays}.`,
    "",
  ];
  const describe = (p: PoolSpec) =>
    `${p.name}: ${p.pods} pods × ${p.slots} slots, ${p.serviceMs} ms per request (±5 %), model \`${p.model}\`, capacity ${capacity(p)} req/s`;
  return [
    "## 1. Cross-talk: two pools on one gateway vs each alone",
    "",
    `Pools (bench/lib/slot-pod.ts pods): ${describe(A)}; ${describe(B)}. The config is one InferencePool per ` +
      "pool selecting its pods by label, and per pool an InferenceObjective `critical` (priority 10) and `batch` (−1). " +
      "Runs: **alone** = a gateway serving only that pool, only that pool's load; **two gateways** = each pool alone on " +
      "its own gateway, both pools' load at once (same process: the load-matched baseline); **one gateway** = one " +
      "gateway serving both pools, both pools' load at once. Cross-talk is what differs between the last two. " +
      "Each pool's traffic is its own seeded Poisson stream (same arrivals in every run). Pods, gateways and " +
      `clients run in this one Bun process. ${opts.seconds} s of arrivals per run, the first ${warmupS} s excluded; ` +
      `fresh pods and gateways per run; ${opts.rounds} rounds, each running every configuration once (interleaved): ` +
      "latencies and gauges are the median over the rounds, counts (ok / sent, requests per pod, 429s) their sum. Latency: wall ms from send to the end of the streamed answer (the pods " +
      "answer in one piece, so TTFT ≈ latency). Lag p99: this process's event-loop lag; process CPU: this process's " +
      "CPU over the run, % of one core (the noise gauges).",
    "",
    ...summary,
    "### Scheduling quality, default profile (no EndpointPickerConfig), each pool at 75 % of its capacity",
    "",
    ...schedHead,
    ...rows(A, sched, sched_),
    ...rows(B, sched, sched_),
    "",
    "### Flow control, the README's config: a priority-10 stream at 20 % of capacity under a sheddable flood at 2× capacity",
    "",
    `| pool | run | critical ok / sent | critical p50 ms | critical p90 ms | flood 429 | mean queued at the gateway | pods' mean waiting | ${tail} |`,
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...rows(A, flowRuns, flow_),
    ...rows(B, flowRuns, flow_),
    "",
    "### A steady pool (75 %) beside a flooded one, the README's config on both",
    "",
    ...schedHead,
    ...rows(A, besideB, sched_),
    ...rows(B, besideA, sched_),
    "",
  ];
}
