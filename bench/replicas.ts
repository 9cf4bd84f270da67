/**
 * Gateway replicas benchmark (run on purpose: `npm run bench:replicas`).
 *
 * Three independent gateways (own createGateway each: own prefix index, in-flight counts
 * and scrapers; same config; different random seeds) in front of the same simulated
 * pods, requests spread over them in turn, against one gateway alone, on the
 * shared-prefix workload of bench:quality. Target: the pods' prefix-cache hit rate with
 * three replicas is at least 90 % of one replica's. Control: the same with the
 * rendezvous tie-break off (max-score-picker `rendezvous: false`, ties broken at random).
 *
 * Knobs (env): BENCH_SECONDS (arrival window per run, wall s, default 12),
 * BENCH_TIME_SCALE (0.5), BENCH_PODS (6), BENCH_RATES (simulated req/s, "8,16"),
 * BENCH_REPLICAS (3), BENCH_DRAIN_SECONDS (10), BENCH_OUT (results file; "-" = don't write).
 */
import { writeFileSync } from "node:fs";
import { defaultProfile } from "./lib/configs.ts";
import { measureRun, ms, pct, type RunStats, SUSTAINED } from "./lib/measure.ts";
import { commandLine, env, list, MODEL, pods, setupNotes, WORKLOAD } from "./lib/setup.ts";
import { sharedPrefixBodies } from "./lib/workload.ts";

const SECONDS = Number(env("BENCH_SECONDS", "12"));
const TIME_SCALE = Number(env("BENCH_TIME_SCALE", "0.5"));
const PODS = Number(env("BENCH_PODS", "6"));
const RATES = list(env("BENCH_RATES", "8,16")).map(Number);
const REPLICAS = Number(env("BENCH_REPLICAS", "3"));
const DRAIN = Number(env("BENCH_DRAIN_SECONDS", "10"));
const OUT = env("BENCH_OUT", new URL("./results/replicas.md", import.meta.url).pathname);
const WARMUP = 0.25;

const VARIANTS = [
  { rendezvous: true, key: "on", yaml: undefined as string | undefined, label: "on (default profile)" },
  {
    rendezvous: true,
    key: "narrow",
    yaml: defaultProfile({ newPrefixTieEpsilon: 0.05 }),
    label: "on, narrow band for new prefixes (newPrefixTieEpsilon 0.05)",
  },
  { rendezvous: false, key: "off", yaml: defaultProfile({ rendezvous: false }), label: "off (control)" },
];

interface Row {
  rate: number;
  key: string;
  rendezvous: boolean;
  label: string;
  replicas: number;
  r: RunStats;
}

const rows: Row[] = [];
const started = Date.now();
for (const rate of RATES) {
  for (const v of VARIANTS) {
    for (const replicas of [1, REPLICAS]) {
      const r = await measureRun({
        pods: pods(PODS, TIME_SCALE),
        model: MODEL,
        pickerYaml: v.yaml,
        replicas,
        gatewaySeed: 1,
        body: sharedPrefixBodies(WORKLOAD, MODEL),
        rate,
        timeScale: TIME_SCALE,
        seconds: SECONDS,
        warmupFraction: WARMUP,
        drainSeconds: DRAIN,
        // The same requests in the same order for every run at this rate.
        loadSeed: 42 + rate,
      });
      rows.push({ rate, key: v.key, rendezvous: v.rendezvous, label: v.label, replicas, r });
      console.log(
        `rate ${rate} rendezvous ${v.key} replicas ${replicas}: hit ${pct(r.hitRate)}` +
          ` ttft p50 ${ms(r.ttftP50)} p90 ${ms(r.ttftP90)} achieved ${r.achieved.toFixed(1)}/${r.offered.toFixed(1)}` +
          ` lag99 ${r.lagP99.toFixed(1)}ms spread [${r.spread.join(",")}] pods/group ${r.podsPerGroup.toFixed(2)} ${r.sustained ? "sustained" : `NOT sustained (${r.reason})`}`,
      );
    }
  }
}
const minutes = (Date.now() - started) / 60_000;

const lines: string[] = [];
const out = (l = "") => {
  lines.push(l);
};
out("# Gateway replicas");
out();
out(
  `Run ${new Date().toISOString().slice(0, 10)} on a shared machine with 2 cores, Bun ${Bun.version}, ` +
    `${minutes.toFixed(1)} min in all. Command:`,
);
out();
out("```sh");
out(
  commandLine("bench:replicas", [
    "BENCH_SECONDS",
    "BENCH_TIME_SCALE",
    "BENCH_PODS",
    "BENCH_RATES",
    "BENCH_REPLICAS",
    "BENCH_DRAIN_SECONDS",
  ]),
);
out("```");
out();
out("Setup:");
out();
for (const l of setupNotes({
  pods: PODS,
  seconds: SECONDS,
  timeScale: TIME_SCALE,
  warmup: WARMUP,
  drain: DRAIN,
})) {
  out(l);
}
out(
  `- ${REPLICAS} replicas = ${REPLICAS} independent \`createGateway\` instances in one process (each its own ` +
    "prefix index, in-flight counts, scrapers, Random seed), same config, each listening on its own port; the " +
    "client sends request k to replica k mod " +
    `${REPLICAS}. A replica sees only a third of the traffic and learns nothing from the others.`,
);
out(
  "- Rendezvous on = the default profile: max-score-picker orders near-ties by rendezvous hashing of " +
    "the prompt's distinctive block (the first block most prompts do not share); the near-tie band is 0.05 " +
    "(total-score units, out of 7) when some pod holds that block, and `newPrefixTieEpsilon` 1.0 when none " +
    "does (a prefix this replica has not seen), less the pods with more prefill pending than the prompt. " +
    "Narrow = the same with `newPrefixTieEpsilon: 0.05` (the behaviour before the band was widened). " +
    "Off = `rendezvous: false` (near-ties broken at random).",
);
out("- Every run at one rate sends the same requests in the same order (same load seed).");
out(
  "- Pods per group: distinct pods that served a group's requests in the measured interval; every extra " +
    "pod holds another copy of the group's 2,000-token system prompt.",
);
out(`- ${SUSTAINED}`);
out();
out(
  "| rate (req/s) | rendezvous | gateways | pod prefix-cache hit rate | vs 1 gateway, same setting | pods per group | TTFT p50 (ms) | TTFT p90 (ms) | achieved (req/s) | sustained | lag p99 (wall ms) |",
);
out("|---|---|---|---|---|---|---|---|---|---|---|");
const single = (rate: number, key: string) =>
  rows.find((x) => x.rate === rate && x.key === key && x.replicas === 1)?.r;
for (const x of rows) {
  const base = single(x.rate, x.key);
  const rel = base && x.replicas !== 1 ? `${((100 * x.r.hitRate) / base.hitRate).toFixed(0)} %` : "-";
  out(
    `| ${x.rate} | ${x.label} | ${x.replicas} | ${pct(x.r.hitRate)} | ${rel} | ${x.r.podsPerGroup.toFixed(2)} | ${ms(x.r.ttftP50)} | ${ms(x.r.ttftP90)} | ${x.r.achieved.toFixed(1)} | ${x.r.sustained ? "yes" : `no: ${x.r.reason}`} | ${x.r.lagP99.toFixed(1)} |`,
  );
}
out();
out("## Target");
out();
for (const rate of RATES) {
  const one = single(rate, "on");
  const many = rows.find((x) => x.rate === rate && x.key === "on" && x.replicas === REPLICAS)?.r;
  const narrowOne = single(rate, "narrow");
  const narrowMany = rows.find((x) => x.rate === rate && x.key === "narrow" && x.replicas === REPLICAS)?.r;
  const offOne = single(rate, "off");
  const offMany = rows.find((x) => x.rate === rate && x.key === "off" && x.replicas === REPLICAS)?.r;
  if (!one || !many) continue;
  const ratio = many.hitRate / one.hitRate;
  const control = offOne && offMany ? offMany.hitRate / offOne.hitRate : Number.NaN;
  out(
    `- ${rate} req/s: ${REPLICAS} replicas reach ${pct(many.hitRate)} against ${pct(one.hitRate)} for one ` +
      `(${(100 * ratio).toFixed(0)} %; target ≥ 90 %): **${ratio >= 0.9 ? "met" : "not met"}**. ` +
      `Narrow band: ${pct(narrowMany?.hitRate ?? Number.NaN)} against ${pct(narrowOne?.hitRate ?? Number.NaN)} ` +
      `(${((100 * (narrowMany?.hitRate ?? Number.NaN)) / (narrowOne?.hitRate ?? Number.NaN)).toFixed(0)} %). ` +
      `Rendezvous off: ${pct(offMany?.hitRate ?? Number.NaN)} against ${pct(offOne?.hitRate ?? Number.NaN)} ` +
      `(${(100 * control).toFixed(0)} %).`,
  );
}
const text = `${lines.join("\n")}\n`;
console.log(`\n${text}`);
if (OUT !== "-") writeFileSync(OUT, text);
