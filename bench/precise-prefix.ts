/**
 * Precise (KV events) vs approximate prefix-cache routing when the pods' caches are
 * smaller than the working set. Side by side in one run, same seeds, fresh pods per run:
 *
 *   pods      4 bench/lib/kv-event-pod.ts pods (serial prefill, LRU of KV_BLOCKS blocks)
 *   workload  GROUPS system prompts of SYSTEM_CHARS characters, Zipf(1) popularity, each
 *             request that prompt + a unique question; the prompts' blocks are WS x the
 *             pods' total cache
 *   profiles  approximate: prefix-cache-scorer 3, queue 1, kv-cache-utilization 1, max-score
 *             precise:     precise-prefix-cache-scorer 3 (central mode, speculativeIndexing),
 *                          the same others
 *
 * Figures: TTFT p50/p90 (ms, from the load generator), the pods' own prefix-cache hit
 * rate (tokens), requests per pod. `bun run bench/precise-prefix.ts` (about 2 minutes);
 * BENCH_SECONDS shortens each run. Results: bench/results/precise-prefix.md.
 */
import { writeFileSync } from "node:fs";
import * as net from "node:net";
import type { Random } from "../src/clock.ts";
import { lagMonitor, startGateways } from "./lib/gateway.ts";
import { type KvEventPod, startKvEventPod } from "./lib/kv-event-pod.ts";
import { censoredQuantile, fmt, runOpenLoop } from "./lib/load.ts";

const PODS = 4;
const KV_BLOCKS = 120; // per pod: 7,680 characters, 5 system prompts
const GROUPS = 24;
const SYSTEM_CHARS = 1536; // 24 blocks
const QUESTION_CHARS = 192;
/** Generated tokens per request: 8 blocks of KV each, which evict older prefixes. */
const OUTPUT_TOKENS = 128;
const SECONDS = Number(process.env["BENCH_SECONDS"] ?? 12);
const MODEL = "bench-model";

const pod = {
  model: MODEL,
  maxSeqs: 16,
  kvBlocks: KV_BLOCKS,
  prefillBaseMs: 5,
  prefillMsPerToken: 0.25,
  decodeMs: 20,
};

function words(seed: number, chars: number): string {
  let s = "";
  let x = seed * 2654435761;
  while (s.length < chars) {
    x = (Math.imul(x ^ (x >>> 15), 2246822507) + 0x6d2b79f5) >>> 0;
    s += `${x.toString(36)} `;
  }
  return s.slice(0, chars);
}

const systems = Array.from({ length: GROUPS }, (_, g) => words(1000 + g, SYSTEM_CHARS));
const zipf = (() => {
  const w = systems.map((_, k) => 1 / (k + 1));
  const total = w.reduce((a, b) => a + b, 0);
  let acc = 0;
  return w.map((x) => (acc += x / total));
})();

function body(i: number, random: Random): Record<string, unknown> {
  const r = random();
  const g = zipf.findIndex((c) => r <= c);
  return {
    model: MODEL,
    max_tokens: OUTPUT_TOKENS,
    messages: [
      { role: "system", content: systems[g < 0 ? GROUPS - 1 : g] },
      { role: "user", content: `question ${i}: ${words(i + 7, QUESTION_CHARS)}` },
    ],
  };
}

const others = `
  - type: queue-scorer
  - type: kv-cache-utilization-scorer
  - type: max-score-picker`;
const profile = (prefix: string) => `
schedulingProfiles:
  - name: default
    plugins:
      - { pluginRef: ${prefix}, weight: 3 }
      - { pluginRef: queue-scorer, weight: 1 }
      - { pluginRef: kv-cache-utilization-scorer, weight: 1 }
      - { pluginRef: max-score-picker }`;
const head = "apiVersion: inference.networking.x-k8s.io/v1alpha1\nkind: EndpointPickerConfig\nplugins:";
const approxYaml = `${head}\n  - type: prefix-cache-scorer${others}${profile("prefix-cache-scorer")}`;
const preciseYaml = (port: number) =>
  `${head}
  - type: precise-prefix-cache-scorer
    parameters:
      speculativeIndexing: true
      tokenizer: { source: simulator }
      kvEventsConfig: { podDiscoveryConfig: { socketPort: ${port} } }
  - type: prefix-cache-scorer${others}${profile("precise-prefix-cache-scorer")}
      - { pluginRef: prefix-cache-scorer, weight: 0 }`;

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.2", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface Scenario {
  replicas: number;
  /** Share of the rate sent straight to the pods (round-robin), past every gateway. */
  direct: number;
  rate: number;
}

interface Row extends Scenario {
  mode: string;
  n: number;
  failed: number;
  p50: number;
  p90: number;
  hit: number;
  perPod: number[];
}

async function run(mode: "approximate" | "precise", sc: Scenario, seed: number): Promise<Row> {
  const kvPort = await freePort();
  // Pod i on 127.0.0.(2+i): its vLLM-style publisher binds tcp://<its address>:kvPort and
  // every gateway replica subscribes to every pod (per-pod mode, upstream's default).
  const pods: KvEventPod[] = await Promise.all(
    Array.from({ length: PODS }, (_, i) => {
      const host = `127.0.0.${2 + i}`;
      const events = { kvEndpoint: `tcp://${host}:${kvPort}`, kvBind: true, topic: `kv@${host}@${MODEL}` };
      return startKvEventPod({ ...pod, host, ...(mode === "precise" ? events : {}) });
    }),
  );
  const gw = await startGateways({
    addresses: pods.map((p) => p.address),
    model: MODEL,
    pickerYaml: mode === "precise" ? preciseYaml(kvPort) : approxYaml,
    replicas: sc.replicas,
    seed,
  });
  try {
    // The KV-event subscriptions start with each gateway's first decision; let them
    // connect before the load (a ZMQ PUB drops what it sends before that).
    for (const url of gw.urls)
      await fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body(-1, () => 0.5)),
      }).then((r) => r.text());
    await Bun.sleep(500);
    const warmupMs = SECONDS * 250;
    const begin = performance.now();
    const reset = setTimeout(() => {
      for (const p of pods) p.resetCounters();
    }, warmupMs);
    const opts = { drainSeconds: 10 };
    const viaGateway = [{ tag: mode, rate: sc.rate * (1 - sc.direct), body }];
    const podUrls = pods.map((p) => `http://${p.address}`);
    const [samples] = await Promise.all([
      runOpenLoop(gw.urls, viaGateway, SECONDS, seed, opts),
      sc.direct > 0
        ? runOpenLoop(podUrls, [{ tag: "direct", rate: sc.rate * sc.direct, body }], SECONDS, seed + 1, opts)
        : [],
    ]);
    clearTimeout(reset);
    const measured = samples.filter((s) => s.sentAt >= begin + warmupMs);
    const ttft = measured.map((s) => (s.status === 200 && Number.isFinite(s.ttftMs) ? s.ttftMs : Infinity));
    const c = pods.map((p) => p.counters());
    const hits = c.reduce((a, x) => a + x.hitTokens, 0);
    const queries = c.reduce((a, x) => a + x.queryTokens, 0);
    return {
      ...sc,
      mode,
      n: measured.length,
      failed: measured.filter((s) => s.status !== 200).length,
      p50: censoredQuantile(ttft, 0.5),
      p90: censoredQuantile(ttft, 0.9),
      hit: queries > 0 ? hits / queries : Number.NaN,
      perPod: c.map((x) => x.requests),
    };
  } finally {
    await gw.close();
    await Promise.all(pods.map((p) => p.close()));
  }
}

const scenarios: Scenario[] = [
  { replicas: 1, direct: 0, rate: 8 },
  { replicas: 1, direct: 0, rate: 16 },
  { replicas: 3, direct: 0, rate: 16 },
  { replicas: 1, direct: 0.3, rate: 16 },
];
const lag = lagMonitor();
const rows: Row[] = [];
for (const sc of scenarios) {
  for (const mode of ["approximate", "precise"] as const) {
    const r = await run(mode, sc, 11);
    rows.push(r);
    console.log(
      `${mode.padEnd(11)} x${sc.replicas} direct ${sc.direct} ${sc.rate} req/s  n=${r.n} failed=${r.failed}  TTFT p50 ${fmt(r.p50)} p90 ${fmt(r.p90)} ms  hit ${(r.hit * 100).toFixed(1)}%  per pod ${r.perPod.join("/")}`,
    );
  }
}
const l = lag.stop();

const same = (a: Scenario, b: Scenario) =>
  a.rate === b.rate && a.replicas === b.replicas && a.direct === b.direct;
const lines = [
  "# Precise vs approximate prefix-cache routing (bench/precise-prefix.ts)",
  "",
  `${PODS} pods of ${KV_BLOCKS} KV blocks (64 characters each), serial prefill ${pod.prefillBaseMs} ms + ${pod.prefillMsPerToken} ms/token,`,
  `${OUTPUT_TOKENS} generated tokens per request kept in the cache (${OUTPUT_TOKENS / 16} blocks);`,
  `${GROUPS} system prompts of ${SYSTEM_CHARS} characters, Zipf(1), + a unique ${QUESTION_CHARS}-character question:`,
  `the system prompts alone are ${((GROUPS * SYSTEM_CHARS) / 64 / (PODS * KV_BLOCKS)).toFixed(2)}x the pods' total cache.`,
  "Precise: per-pod KV-event subscriptions, speculativeIndexing; both modes use the same queue and KV scorers.",
  `${SECONDS} s per run, first quarter warm-up; same seed for both modes; event-loop lag p99 ${l.p99.toFixed(1)} ms.`,
  "TTFT is over the requests sent through the gateways; the hit rate is the pods' own (tokens, all requests).",
  "",
  "| rate | gateways | direct to pods | mode | measured | TTFT p50 (ms) | TTFT p90 (ms) | pod hit rate | requests per pod | p90 precise / approximate |",
  "|---:|---:|---:|---|---:|---:|---:|---:|---|---:|",
  ...rows.map((r) => {
    const a = rows.find((x) => same(x, r) && x.mode === "approximate")!;
    const ratio = r.mode === "precise" ? (r.p90 / a.p90).toFixed(2) : "";
    return `| ${r.rate} | ${r.replicas} | ${Math.round(r.direct * 100)}% | ${r.mode} | ${r.n}${r.failed ? ` (${r.failed} failed)` : ""} | ${fmt(r.p50)} | ${fmt(r.p90)} | ${(r.hit * 100).toFixed(1)}% | ${r.perPod.join(" / ")} | ${ratio} |`;
  }),
  "",
];
writeFileSync(new URL("./results/precise-prefix.md", import.meta.url), lines.join("\n"));
console.log(lines.join("\n"));
process.exit(0);
