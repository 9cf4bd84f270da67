/**
 * Part 2 of the many-pools benchmark: one gateway process per variant (pools × endpoints),
 * measured in interleaved rounds (the order rotates each round) against the mock upstream
 * directly; returns the results file's section with medians and ratios to 1 pool × 4.
 */
import { killAllOnExit, type Proc, stop, stopAll } from "../overhead/procs.ts";
import { microSection } from "./pool-micro.ts";
import { type Measured, measureGateway, modelOf, OverheadRig, type Variant } from "./pool-overhead.ts";

const LAST_POOLS = 10;

/** "p10e4" = 10 pools × 4 endpoints each; "p10e4q" = the same, quiet (no scraping during the run). */
function parseVariant(id: string): Variant {
  const m = /^p(\d+)e(\d+)(q?)$/.exec(id);
  if (!m)
    throw new Error(`BENCH_VARIANTS: '${id}' is not p<pools>e<endpoints per pool>[q] (e.g. p10e4, p10e4q)`);
  return { id, pools: Number(m[1]), endpointsPerPool: Number(m[2]), quiet: m[3] === "q" };
}

const median = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  const n = v.length;
  return n === 0 ? Number.NaN : n % 2 ? v[(n - 1) / 2]! : (v[n / 2 - 1]! + v[n / 2]!) / 2;
};

const CASES = [
  { id: "c1", conns: 1, what: "1 connection (latency)" },
  { id: "c32", conns: 32, what: "32 connections (throughput, CPU)" },
] as const;

export async function overheadSection(opts: {
  rounds: number;
  seconds: number;
  variants: string[];
  /** In-process variants, rounds and requests per batch (bench/lib/pool-micro.ts). */
  micro: { variants: string[]; rounds: number; n: number };
}): Promise<string[]> {
  killAllOnExit();
  const micro = await microSection({ ...opts.micro, variants: opts.micro.variants.map(parseVariant) });
  const variants = opts.variants.map(parseVariant);
  const lastPools = Math.max(...variants.map((v) => v.pools));
  const lastModel = modelOf(Math.max(LAST_POOLS, lastPools) - 1);
  const rig = new OverheadRig(lastModel);
  const body = (model: string) => ({
    model,
    messages: [{ role: "user", content: "Hello, how are you today? Please answer briefly." }],
    max_tokens: 16,
  });
  const script = rig.script("mix", [body(modelOf(0)), body(lastModel)]);
  try {
    const upstream = await rig.startUpstream(Math.max(...variants.map((v) => v.pools * v.endpointsPerPool)));
    const gateways = new Map<string, { proc: Proc; port: number }>();
    for (const v of variants) {
      const g = await rig.launch(v);
      gateways.set(v.id, g);
      console.log(
        `${v.id}: ${v.pools} pool(s) × ${v.endpointsPerPool} endpoints on ${g.port} (pid ${g.proc.pid})`,
      );
    }
    const procs = [...gateways.values()].map((g) => g.proc);
    // Warm-up (JIT, connection pools), not recorded: each gateway for 2 s at 8 connections.
    for (const [id, g] of gateways) {
      await measureGateway(
        rig,
        { proc: g.proc, url: `http://127.0.0.1:${g.port}` },
        procs.filter((p) => p !== g.proc),
        {
          script,
          conns: 8,
          seconds: 2,
          idleS: 0,
        },
      );
      console.log(`${id} warmed up`);
    }
    const targets = [
      { id: "direct", proc: undefined, url: `http://127.0.0.1:${rig.ports[0]}` },
      ...variants.map((v) => ({
        id: v.id,
        proc: gateways.get(v.id)!.proc,
        url: `http://127.0.0.1:${gateways.get(v.id)!.port}`,
      })),
    ];
    const got = new Map<string, Measured[]>();
    for (let round = 0; round < opts.rounds; round++) {
      for (const c of CASES) {
        const order = targets.map((_, k) => targets[(k + round) % targets.length]!);
        for (const t of order) {
          const m = await measureGateway(
            rig,
            t,
            procs.filter((p) => p !== t.proc),
            { script, conns: c.conns, seconds: opts.seconds, idleS: t.proc ? 1.5 : 0 },
          );
          const key = `${t.id}/${c.id}`;
          got.set(key, [...(got.get(key) ?? []), m]);
          console.log(
            `round ${round + 1} ${c.id} ${t.id.padEnd(6)} ${m.rps.toFixed(0)} req/s p50 ${m.p50Ms.toFixed(3)} ms ` +
              `CPU ${m.cpuUs.toFixed(0)} µs/req (net ${m.netCpuUs.toFixed(0)}), idle ${(m.idleUsPerS / 1000).toFixed(1)} ms/s` +
              (m.errors ? ` ERRORS ${m.errors}` : ""),
          );
        }
      }
    }
    await Promise.all(procs.map((p) => stop(p)));
    await stop(upstream);
    const med = (id: string, c: string, f: (m: Measured) => number) =>
      median((got.get(`${id}/${c}`) ?? []).map(f));
    const direct = med("direct", "c1", (m) => m.p50Ms);
    const x = (a: number, b: number) => (Number.isFinite(a / b) ? (a / b).toFixed(2) : "-");
    const rows = variants.map((v) => {
      // Ratios against the first variant scraping as this one does.
      const base = variants.find((b) => b.quiet === v.quiet)!.id;
      const m = (id: string, c: string, f: (m: Measured) => number) => med(id, c, f);
      const net32 = m(v.id, "c32", (r) => r.netCpuUs);
      const net1 = m(v.id, "c1", (r) => r.netCpuUs);
      const added = m(v.id, "c1", (r) => r.p50Ms) - direct;
      const errors = [...(got.get(`${v.id}/c1`) ?? []), ...(got.get(`${v.id}/c32`) ?? [])].reduce(
        (a, r) => a + r.errors,
        0,
      );
      return [
        v.id,
        v.pools,
        v.endpointsPerPool,
        v.quiet ? "off" : "50 ms",
        (m(v.id, "c32", (r) => r.idleUsPerS) / 1000).toFixed(1),
        m(v.id, "c32", (r) => r.rps).toFixed(0),
        m(v.id, "c32", (r) => r.cpuUs).toFixed(0),
        net32.toFixed(0),
        `**${x(
          net32,
          m(base, "c32", (r) => r.netCpuUs),
        )}**`,
        m(v.id, "c1", (r) => r.cpuUs).toFixed(0),
        net1.toFixed(0),
        `**${x(
          net1,
          m(base, "c1", (r) => r.netCpuUs),
        )}**`,
        added.toFixed(3),
        `**${x(added, m(base, "c1", (r) => r.p50Ms) - direct)}**`,
        errors,
      ].join(" | ");
    });
    return [
      "## 2. Overhead per request: 1 vs 10 pools (and 4 vs 40 vs 64 endpoints in one pool)",
      "",
      `Gateway processes under Bun (\`bun run src/runtime/bun.ts --config ...\`, logLevel info, default scheduling profile, ` +
        "models given in the config; scrape interval 50 ms (the default), or 10 min for the variants marked q), one per " +
        "variant, all started at once, each warmed up for 2 s at 8 connections; the one measured runs, the others are " +
        "SIGSTOPped. Upstream: bench/overhead/upstream.ts, one Bun process with a port per endpoint (prebuilt JSON " +
        `answers). wrk -t1, ${opts.seconds} s per measurement, non-streamed chat bodies alternating \`${modelOf(0)}\` ` +
        `(the first pool's model) and \`${lastModel}\` (the last pool's); with one pool, its endpoints serve both. ` +
        (process.env["BENCH_PIN"] !== "1"
          ? "Not pinned (BENCH_PIN=1 pins). "
          : "Pinned: wrk and upstream on core 0, the gateway on core 1. ") +
        `${opts.rounds} interleaved rounds (the order rotates), medians. CPU µs/req = utime+stime of the gateway process ` +
        "(all threads, /proc/<pid>/stat) over the wrk run ÷ requests; net = less the same process's CPU rate with no " +
        "traffic (idle, measured for 1.5 s right before each run: background scraping). Added p50 = the gateway's p50 " +
        `at 1 connection − the upstream's own (${direct.toFixed(3)} ms). Ratios are against the first variant with the ` +
        "same scraping.",
      "",
      "| variant | pools | endpoints per pool | scraping | idle CPU ms/s | c32 req/s | CPU µs/req (c32) | net | net ÷ first | CPU µs/req (c1) | net | net ÷ first | added p50 ms (c1) | ÷ first | errors |",
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
      ...rows.map((r) => `| ${r} |`),
      "",
      ...micro.lines,
      ...findings(
        (id) => med(id, "c32", (r) => r.netCpuUs),
        (id) => med(id, "c32", (r) => r.idleUsPerS),
        micro.median,
      ),
    ];
  } finally {
    await stopAll();
  }
}

/**
 * What the figures say about pools and endpoints, with the numbers of this run; the
 * profile facts are from `bench/lib/pool-profile.ts` (commands in the text).
 */
function findings(
  net: (id: string) => number,
  idle: (id: string) => number,
  micro: (id: string) => number,
): string[] {
  const ids = ["p1e4", "p10e4", "p1e40", "p1e64", "p1e4q", "p10e4q", "p1e64q"];
  if (ids.some((id) => !Number.isFinite(net(id))) || !Number.isFinite(micro("p1e64") + micro("p100e4")))
    return [
      "(The summary of what grows needs the default variants: BENCH_VARIANTS and BENCH_MICRO_VARIANTS unset.)",
      "",
    ];
  const r = (a: number, b: number) => (Number.isFinite(a / b) ? (a / b).toFixed(2) : "-");
  const perEndpoint = (micro("p1e64") - micro("p1e4")) / 60;
  const scrapeUs = (idle("p1e40") - idle("p1e4")) / 36 / 20;
  return [
    "### What grows, and with what",
    "",
    `- **Pools: nothing measurable.** Net gateway CPU per request, 10 pools ÷ 1: ${r(net("p10e4"), net("p1e4"))} ` +
      `with scraping, ${r(net("p10e4q"), net("p1e4q"))} without; in-process, 10 pools ÷ 1: ${r(micro("p10e4"), micro("p1e4"))}, ` +
      `100 pools ÷ 1: ${r(micro("p100e4"), micro("p1e4"))}. A request meets one pool: \`PoolSet.route(model)\` ` +
      "answers from a cache (cleared only when a pool's endpoints or models change; its miss path is a scan of " +
      "the pools), and the pool's admitter, scheduler and load tracker see only that pool's endpoints.",
    `- **Endpoints in the request's pool: linear, as the scheduler's design has it.** End to end at 32 connections, ` +
      `64 endpoints ÷ 4: ${r(net("p1e64"), net("p1e4"))} with scraping, ${r(net("p1e64q"), net("p1e4q"))} without (what ` +
      `the scheduler's per-endpoint work costs alone). In-process, 64 endpoints ÷ 4 in one pool: ` +
      `${r(micro("p1e64"), micro("p1e4"))} (≈ ${perEndpoint.toFixed(2)} µs per endpoint per request); 1 pool × 40 ÷ 10 ` +
      `pools × 4 (same 40 endpoints): ${r(micro("p1e40"), micro("p10e4"))}. A CPU profile of one decision at 64 endpoints ` +
      "(`BENCH_DECISION=1 bun bench/lib/pool-micro.ts p1e4,p1e64`; under `--cpu-prof`, `bench/lib/pool-profile.ts` reads " +
      "it) puts the per-endpoint time in the load tracker's one pass over the candidates, the candidate filter's " +
      "`preferFresh` and max-score-picker's draw, band and top 3: every endpoint of the pool is scored for every " +
      "request, as GIE's scheduler does. The first two read the pool store's columns since the twenty-third pass " +
      "(typed arrays the store keeps up to date, not each endpoint's objects: one decision at 64 endpoints 5.0 → 4.0 µs " +
      "in process on Bun; end to end, where those objects ran cold, `bench/overhead/endpoint-probe.ts` read 64 endpoints " +
      "at 0.87-0.97× the tree before); the twenty-second pass lent each decision its load columns. Splitting a fleet " +
      "into pools makes that cheaper, not dearer.",
    `- **Background scraping: per endpoint, not per pool.** Idle gateway CPU is ${(idle("p10e4") / 1000).toFixed(0)} ms/s ` +
      `for 10 pools × 4 and ${(idle("p1e40") / 1000).toFixed(0)} ms/s for 1 pool × 40 (the same 40 endpoints), ` +
      `${(idle("p1e4") / 1000).toFixed(0)} ms/s for 4: ≈ ${scrapeUs.toFixed(0)} µs per /metrics scrape at the default ` +
      "50 ms interval (20 scrapes per endpoint per second), of the benchmark's pods' three-gauge page. A platform with " +
      "many endpoints pays that whatever its pool count; `dataLayer.scrapeIntervalMs` is the knob. A real vLLM page is " +
      "25-160 KB (its histograms): a whole scrape of a full-size one costs ~200 µs on Bun (`bench/overhead/scrape-pair.ts " +
      "--page full`), so the gateway asks pods for the mapped metrics only (`name[]`, which prometheus_client serves; " +
      "`dataLayer.scrapeByName`) and its answer is the size of the three-gauge page. Throughput at 32 connections " +
      "(req/s columns) moves with what else the shared machine runs from one measurement to the next; CPU per request " +
      "is the figure to compare.",
    "",
  ];
}
