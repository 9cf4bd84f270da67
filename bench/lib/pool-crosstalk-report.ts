/**
 * Part 1 of the many-pools benchmark: runs each pool alone and the two together, under
 * the default profile, under the README's flow-control config, and beside a flooded
 * neighbour; returns the results file's section (tables with the together ÷ alone ratios).
 */
import { readFileSync } from "node:fs";
import { fmt } from "./load.ts";
import { crosstalkRun, type Load, type PoolFigures, type RunResult } from "./pool-crosstalk.ts";
import { capacity, type PoolSpec } from "./pool-fleet.ts";

export const POOL_A: PoolSpec = { name: "pool-a", model: "model-a", pods: 4, slots: 4, serviceMs: 400 };
export const POOL_B: PoolSpec = { name: "pool-b", model: "model-b", pods: 3, slots: 2, serviceMs: 200 };

/** The README's flow-control example, as the README shows it (so the two cannot drift). */
export function readmeFlowConfig(): string {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const m =
    /```yaml\n(apiVersion: inference\.networking\.x-k8s\.io\/v1alpha1\nkind: EndpointPickerConfig\nfeatureGates: \[flowControl\][\s\S]*?)```/.exec(
      readme,
    );
  if (!m)
    throw new Error(
      "README.md: the flow-control example (EndpointPickerConfig with featureGates) was not found",
    );
  return m[1]!;
}

const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? (a / b).toFixed(2) : "-");

type Loads = [PoolSpec, Load][];

export async function crosstalkSection(opts: { seconds: number }): Promise<string[]> {
  const flow = readmeFlowConfig();
  const warmupS = Math.min(2, opts.seconds / 4);
  const strays = 0;
  const run = async (label: string, groups: PoolSpec[][], loads: Loads, picker?: string) => {
    const r = await crosstalkRun({
      groups,
      loads: loads.map(([pool, load]) => ({ pool, load })),
      picker,
      seconds: opts.seconds,
      warmupS,
    });
    const parts = [...r.figures].map(
      ([name, f]) =>
        `${name} p50 ${fmt(f.p50)} p90 ${fmt(f.p90)} ok ${f.ok}/${f.n} 429 ${f.rejected} per pod [${f.perPod}] gw queue ${f.gatewayQueued.toFixed(1)}`,
    );
    console.log(
      `${label}: ${parts.join(" | ")} lag p99 ${r.lagP99.toFixed(1)} ms, CPU ${r.cpuPct.toFixed(0)} %`,
    );
    return r;
  };
  const [A, B] = [POOL_A, POOL_B];
  /** Each pool alone (only its load), both on two gateways (load-matched), both on one gateway. */
  const scenario = async (name: string, loads: Loads, picker: string | undefined, withAlone: boolean) => {
    const alone = new Map<string, RunResult>();
    if (withAlone)
      for (const [pool, load] of loads)
        alone.set(pool.name, await run(`${name}: ${pool.name} alone`, [[pool]], [[pool, load]], picker));
    const apart = await run(`${name}: two gateways`, [[A], [B]], loads, picker);
    const together = await run(`${name}: one gateway`, [[A, B]], loads, picker);
    return { alone, apart, together };
  };
  const sched = await scenario(
    "scheduling",
    [
      [A, "steady"],
      [B, "steady"],
    ],
    undefined,
    true,
  );
  const flowRuns = await scenario(
    "flow",
    [
      [A, "priority"],
      [B, "priority"],
    ],
    flow,
    true,
  );
  const besideB = await scenario(
    "beside B flooded",
    [
      [A, "steady"],
      [B, "priority"],
    ],
    flow,
    false,
  );
  const besideA = await scenario(
    "beside A flooded",
    [
      [A, "priority"],
      [B, "steady"],
    ],
    flow,
    false,
  );

  type Runs = Awaited<ReturnType<typeof scenario>>;
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
      "fresh pods and gateways per run. Latency: wall ms from send to the end of the streamed answer (the pods " +
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
