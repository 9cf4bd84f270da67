/**
 * The cross-talk runs of the many-pools benchmark: each pool's load, the figures taken
 * from a run's samples, and one run (a gateway serving some pools, each pool's load sent
 * at once, each from its own seeded open loop, so a pool's arrivals are the same whether
 * it runs alone or beside another).
 */
import { lagMonitor } from "./gateway.ts";
import { quantile, runOpenLoop, type Sample, type StreamSpec } from "./load.ts";
import { capacity, type PoolSpec, withPools } from "./pool-fleet.ts";

export type Load = "steady" | "priority";

/** A pool's load in a run. steady: 75 % of capacity; priority: critical at 20 % + sheddable flood at 2×. */
export function streams(p: PoolSpec, load: Load): StreamSpec[] {
  const body = (tag: string) => (i: number) => ({
    model: p.model,
    max_tokens: 16,
    messages: [{ role: "user", content: `${tag} question ${i}` }],
  });
  const spec = (kind: string, rate: number, objective?: string): StreamSpec => ({
    tag: `${p.name}/${kind}`,
    rate,
    body: body(`${p.name} ${kind}`),
    headers: {
      "x-gateway-inference-fairness-id": `${p.name}-${kind}`,
      ...(objective ? { "x-gateway-inference-objective": objective } : {}),
    },
  });
  const cap = capacity(p);
  return load === "steady"
    ? [spec("steady", 0.75 * cap)]
    : [spec("critical", 0.2 * cap, "critical"), spec("flood", 2 * cap, "batch")];
}

export interface PoolFigures {
  /** Requests sent after the warm-up, and how many got 200 / 429. */
  n: number;
  ok: number;
  rejected: number;
  p50: number;
  p90: number;
  /** Requests each pod served (after the warm-up), pod order. */
  perPod: number[];
  /** Busiest pod's requests ÷ the mean (1 = even). */
  imbalance: number;
  /** Requests of this pool answered by a pod of another pool (must be 0). */
  strays: number;
  /** Pods' time-weighted mean waiting queue and the gateway's mean queued requests, this pool. */
  podWaiting: number;
  gatewayQueued: number;
}

export interface RunResult {
  figures: Map<string, PoolFigures>;
  /** This process's event-loop lag p99 during the run, ms (the noise floor). */
  lagP99: number;
  /** This process's CPU (pods, gateways, clients) during the run, % of one core. */
  cpuPct: number;
}

/**
 * One gateway per group of `groups` (with `picker`), each pool in `loads` driven for
 * `seconds` (seed per pool) through its gateway, figures over the requests sent after `warmupS`.
 */
export async function crosstalkRun(opts: {
  groups: readonly (readonly PoolSpec[])[];
  loads: readonly { pool: PoolSpec; load: Load }[];
  picker: string | undefined;
  seconds: number;
  warmupS: number;
}): Promise<RunResult> {
  return withPools(opts.groups, opts.picker, async ({ urls, gateways, pods }) => {
    const lag = lagMonitor();
    const cpu0 = process.cpuUsage();
    const begin = performance.now();
    const from = begin + opts.warmupS * 1000;
    const queued = new Map<string, number[]>();
    const sampler = setInterval(() => {
      if (performance.now() < from) return;
      for (const p of gateways.flatMap((g) => g.deps.pools.list())) {
        const q = queued.get(p.name) ?? [];
        q.push(p.flow?.stats().queued ?? 0);
        queued.set(p.name, q);
      }
    }, 100);
    const reset = setTimeout(() => {
      for (const ps of pods.values()) for (const pod of ps) pod.resetStats();
    }, opts.warmupS * 1000);
    // One open loop per stream, seeded by its tag: its arrivals are the same in every run
    // (streams sharing one loop would share its Random in an order timing decides).
    const results = await Promise.all(
      opts.loads.map(async ({ pool, load }) =>
        (
          await Promise.all(
            streams(pool, load).map((spec) =>
              runOpenLoop(urls.get(pool.name)!, [spec], opts.seconds, seedOf(spec.tag), { drainSeconds: 15 }),
            ),
          )
        ).flat(),
      ),
    );
    clearInterval(sampler);
    clearTimeout(reset);
    const figures = new Map<string, PoolFigures>();
    opts.loads.forEach(({ pool, load }, k) => {
      const samples = results[k]!.filter((s) => s.sentAt >= from);
      const main = load === "steady" ? `${pool.name}/steady` : `${pool.name}/critical`;
      const podStats = pods.get(pool.name)!.map((p) => p.stats());
      const q = queued.get(pool.name) ?? [];
      figures.set(pool.name, {
        ...figuresOf(
          samples,
          main,
          pods.get(pool.name)!.map((p) => p.address),
        ),
        rejected: samples.filter((s) => s.tag === `${pool.name}/flood` && s.status === 429).length,
        podWaiting: podStats.reduce((a, s) => a + s.meanWaiting, 0) / podStats.length,
        gatewayQueued: q.length ? q.reduce((a, b) => a + b, 0) / q.length : 0,
      });
    });
    const cpu = process.cpuUsage(cpu0);
    const cpuPct = (cpu.user + cpu.system) / 10 / (performance.now() - begin);
    return { figures, lagP99: lag.stop().p99, cpuPct };
  });
}

function figuresOf(samples: Sample[], tag: string, addresses: string[]) {
  const mine = samples.filter((s) => s.tag === tag);
  const ok = mine.filter((s) => s.status === 200);
  // Every request this pool served (the flood's too) counts for the balance.
  const byPod = new Map<string, number>();
  for (const s of samples)
    if (s.status === 200 && s.endpoint) byPod.set(s.endpoint, (byPod.get(s.endpoint) ?? 0) + 1);
  const counts = addresses.map((a) => byPod.get(a) ?? 0);
  const strays = [...byPod].filter(([a]) => !addresses.includes(a)).reduce((n, [, k]) => n + k, 0);
  const mean = counts.reduce((a, b) => a + b, 0) / Math.max(1, counts.length);
  return {
    n: mine.length,
    ok: ok.length,
    p50: quantile(
      ok.map((s) => s.e2eMs),
      0.5,
    ),
    p90: quantile(
      ok.map((s) => s.e2eMs),
      0.9,
    ),
    perPod: counts,
    imbalance: mean > 0 ? Math.max(...counts) / mean : Number.NaN,
    strays,
  };
}

function seedOf(name: string): number {
  let h = 7;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) % 100_000;
  return h;
}
