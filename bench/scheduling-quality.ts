/**
 * Scheduling quality benchmark (run on purpose: `npm run bench:quality`).
 *
 * Simulated vLLM pods whose TTFT is dominated by prefill of uncached tokens, a prefix
 * cache too small to hold every group's system prompt on every pod, and two workloads:
 *  - shared: groups sharing a long system prompt, several users per group, multi-turn;
 *  - unique: the same sizes, every prompt unique (nothing to gain from affinity).
 * Four configurations through the gateway (random, round-robin, load-only, the default
 * profile) at rising Poisson rates. See bench/lib/measure.ts for what is measured and
 * for the definition of "sustained".
 *
 * Knobs (env): BENCH_SECONDS (arrival window per run, wall s, default 12),
 * BENCH_TIME_SCALE (0.5), BENCH_PODS (6), BENCH_RATES (shared workload, simulated req/s,
 * "8,12,16,20,24,28,32"), BENCH_UNIQUE_RATES ("6,10,14"), BENCH_CONFIGS (shared workload, names, comma list),
 * BENCH_UNIQUE_CONFIGS ("round-robin,load-only,default,default-narrow"),
 * BENCH_WORKLOADS ("shared,unique"), BENCH_DRAIN_SECONDS (10), BENCH_OUT (results file;
 * "-" = don't write). Quick run: BENCH_SECONDS=5 BENCH_RATES=12,24 BENCH_UNIQUE_RATES=8.
 */
import { writeFileSync } from "node:fs";
import { DEFAULT, DEFAULT_NARROW, LOAD_ONLY, type NamedConfig, RANDOM, ROUND_ROBIN } from "./lib/configs.ts";
import { measureRun, ms, pct, type RunStats, SUSTAINED } from "./lib/measure.ts";
import { commandLine, env, list, MODEL, pods, setupNotes, WORKLOAD } from "./lib/setup.ts";
import { type BodyFn, sharedPrefixBodies, uniqueBodies } from "./lib/workload.ts";

const SECONDS = Number(env("BENCH_SECONDS", "12"));
const TIME_SCALE = Number(env("BENCH_TIME_SCALE", "0.5"));
const PODS = Number(env("BENCH_PODS", "6"));
const SHARED_RATES = list(env("BENCH_RATES", "8,12,16,20,24,28,32")).map(Number);
const UNIQUE_RATES = list(env("BENCH_UNIQUE_RATES", "6,10,14")).map(Number);
const SHARED_CONFIGS = list(env("BENCH_CONFIGS", "random,round-robin,load-only,default"));
const UNIQUE_CONFIGS = list(env("BENCH_UNIQUE_CONFIGS", "round-robin,load-only,default,default-narrow"));
const WORKLOADS = new Set(list(env("BENCH_WORKLOADS", "shared,unique")));
const DRAIN = Number(env("BENCH_DRAIN_SECONDS", "10"));
const OUT = env("BENCH_OUT", new URL("./results/scheduling-quality.md", import.meta.url).pathname);
const WARMUP = 0.25;

const ALL: NamedConfig[] = [RANDOM, ROUND_ROBIN, LOAD_ONLY, DEFAULT, DEFAULT_NARROW];
const named = (names: string[]) =>
  names.map((n) => {
    const c = ALL.find((x) => x.name === n);
    if (!c) throw new Error(`unknown config ${n}; known: ${ALL.map((x) => x.name).join(", ")}`);
    return c;
  });

type Results = Map<string, Map<number, RunStats | "skipped">>;

/** Each config at rising rates; after the first rate it does not sustain, one more, then skip. */
async function sweep(
  workload: string,
  configs: NamedConfig[],
  body: () => BodyFn,
  rates: number[],
): Promise<Results> {
  const results: Results = new Map();
  for (const config of configs) {
    const byRate = new Map<number, RunStats | "skipped">();
    results.set(config.name, byRate);
    let overloaded = 0;
    for (const rate of rates) {
      if (overloaded >= 2) {
        byRate.set(rate, "skipped");
        continue;
      }
      const r = await measureRun({
        pods: pods(PODS, TIME_SCALE),
        model: MODEL,
        pickerYaml: config.yaml,
        body: body(),
        rate,
        timeScale: TIME_SCALE,
        seconds: SECONDS,
        warmupFraction: WARMUP,
        drainSeconds: DRAIN,
        loadSeed: 42 + rate,
      });
      if (!r.sustained) overloaded++;
      byRate.set(rate, r);
      console.log(
        `${workload} ${config.name.padEnd(11)} rate ${rate}: achieved ${r.achieved.toFixed(1)}/${r.offered.toFixed(1)}` +
          ` ttft p50 ${ms(r.ttftP50)} p90 ${ms(r.ttftP90)} e2e p90 ${ms(r.e2eP90)} tok/s ${r.tokensPerSec.toFixed(0)}` +
          ` hit ${pct(r.hitRate)} q ${r.waitingQ2.toFixed(1)}→${r.waitingQ4.toFixed(1)} backlog ${r.backlogQ2.toFixed(1)}→${r.backlogQ4.toFixed(1)} lag99 ${r.lagP99.toFixed(1)}ms` +
          ` spread [${r.spread.join(",")}] pods/group ${r.podsPerGroup.toFixed(2)} ${r.sustained ? "sustained" : `NOT sustained (${r.reason})`}`,
      );
    }
  }
  return results;
}

const lines: string[] = [];
const out = (l = "") => {
  lines.push(l);
};

function table(results: Results, rates: number[]): void {
  out(
    "| config | rate (req/s) | offered, measured (req/s) | achieved (req/s) | sustained | TTFT p50 (ms) | TTFT p90 (ms) | e2e p90 (ms) | output tok/s | pod prefix-cache hit rate | pods per group | lag p99 (wall ms) |",
  );
  out("|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const [name, byRate] of results) {
    for (const rate of rates) {
      const r = byRate.get(rate);
      if (r === undefined) continue;
      if (r === "skipped") {
        out(`| ${name} | ${rate} | - | - | skipped (overloaded at a lower rate) | | | | | | | |`);
        continue;
      }
      out(
        `| ${name} | ${rate} | ${r.offered.toFixed(1)} | ${r.achieved.toFixed(1)} | ${r.sustained ? "yes" : `no: ${r.reason}`} | ${ms(r.ttftP50)} | ${ms(r.ttftP90)} | ${ms(r.e2eP90)} | ${r.tokensPerSec.toFixed(0)} | ${pct(r.hitRate)} | ${Number.isFinite(r.podsPerGroup) ? r.podsPerGroup.toFixed(2) : "-"} | ${r.lagP99.toFixed(1)} |`,
      );
    }
  }
}

const stats = (results: Results, config: string, rate: number) => {
  const r = results.get(config)?.get(rate);
  return r === undefined || r === "skipped" ? undefined : r;
};

const started = Date.now();
const shared = WORKLOADS.has("shared")
  ? await sweep("shared", named(SHARED_CONFIGS), () => sharedPrefixBodies(WORKLOAD, MODEL), SHARED_RATES)
  : undefined;
const unique = WORKLOADS.has("unique")
  ? await sweep("unique", named(UNIQUE_CONFIGS), () => uniqueBodies(WORKLOAD, MODEL), UNIQUE_RATES)
  : undefined;
const minutes = (Date.now() - started) / 60_000;

out("# Scheduling quality");
out();
out(
  `Run ${new Date().toISOString().slice(0, 10)} on a shared machine with 2 cores, Bun ${Bun.version}, ` +
    `${minutes.toFixed(1)} min in all. Command:`,
);
out();
out("```sh");
out(
  commandLine("bench:quality", [
    "BENCH_SECONDS",
    "BENCH_TIME_SCALE",
    "BENCH_PODS",
    "BENCH_RATES",
    "BENCH_UNIQUE_RATES",
    "BENCH_CONFIGS",
    "BENCH_UNIQUE_CONFIGS",
    "BENCH_WORKLOADS",
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
out("- Unique workload: the same sizes, single turn, every prompt unique.");
out(
  "- Pods per group: distinct pods that served a group's requests in the measured interval " +
    "(1 = perfect affinity; the cache holds a group's prompt once per pod it is spread over).",
);
out(
  "- Configs: random = random-picker; round-robin = round-robin-picker; load-only = queue-scorer ×2 + " +
    "kv-cache-utilization-scorer ×2 + max-score-picker; default = no EndpointPickerConfig (queue ×2, " +
    "kv ×2, prefix-cache ×3, max-score-picker, whose rendezvous tie band is 0.05 for known prefixes and " +
    "`newPrefixTieEpsilon` 1.0 for prefixes no pod holds); default-narrow = the default profile with " +
    "`newPrefixTieEpsilon: 0.05` (the band before it was widened for replicas), as a control. Every picker " +
    "returns 3 endpoints (primary + fallbacks).",
);
out(
  `- ${SUSTAINED} After the first rate a config does not sustain, it runs one more rate, then is ` +
    "skipped. ∞ = the quantile falls on requests cut off at the drain limit.",
);
out();

if (shared) {
  out("## Shared system prompts");
  out();
  table(shared, SHARED_RATES);
  out();
}
if (unique) {
  out("## Unique prompts (no shared prefixes)");
  out();
  table(unique, UNIQUE_RATES);
  out();
}

out("## Targets");
out();
if (shared) {
  const rrSustained = SHARED_RATES.filter((rate) => stats(shared, "round-robin", rate)?.sustained);
  const top = rrSustained.length ? Math.max(...rrSustained) : undefined;
  if (top === undefined) {
    out("- Shared: round-robin sustained none of the rates run; no comparison point.");
  } else {
    const rr = stats(shared, "round-robin", top)!;
    const def = stats(shared, "default", top);
    if (def) {
      const ratio = rr.ttftP90 / def.ttftP90;
      out(
        `- Shared: the highest rate round-robin sustains is ${top} req/s. TTFT p90 there: round-robin ` +
          `${ms(rr.ttftP90)} ms, default ${ms(def.ttftP90)} ms → ${ratio.toFixed(1)}× lower ` +
          `(target ≥ 5×): **${ratio >= 5 ? "met" : "not met"}**.`,
      );
    } else out("- Shared: the default profile was not run at that rate.");
  }
}
if (unique) {
  for (const name of ["default", "default-narrow"]) {
    const rows: string[] = [];
    let worst = 0;
    for (const rate of UNIQUE_RATES) {
      const lo = stats(unique, "load-only", rate);
      const def = stats(unique, name, rate);
      if (!lo || !def) continue;
      const ratio = def.ttftP90 / lo.ttftP90;
      worst = Math.max(worst, Number.isFinite(ratio) ? ratio : 0);
      rows.push(`${rate} req/s: ${ms(def.ttftP90)} vs ${ms(lo.ttftP90)} ms (×${ratio.toFixed(2)})`);
    }
    if (!rows.length) continue;
    out(
      `- Unique: ${name} vs load-only TTFT p90 — ${rows.join("; ")}. Worst ratio ×${worst.toFixed(2)}` +
        (name === "default"
          ? ` (target: never worse; counted as met within 10 % run-to-run noise): **${worst <= 1.1 ? "met" : "not met"}**` +
            `${worst > 1 && worst <= 1.1 ? " (within noise, not strictly ≤ 1)" : ""}.`
          : " (control)."),
    );
  }
}
const text = `${lines.join("\n")}\n`;
console.log(`\n${text}`);
if (OUT !== "-") writeFileSync(OUT, text);
