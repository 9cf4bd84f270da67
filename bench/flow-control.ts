/**
 * Flow-control benchmark (run on purpose: `npm run bench:flow`). Against a saturated pool of
 * simulated pods:
 *  1. Noisy neighbour: tenant A sends 10x tenant B's rate. With round-robin fairness, B's p90
 *     should stay within 2x of its p90 when alone. Flow control off is shown for comparison.
 *  2. Priority: a priority-0 stream keeps its p90 while a sheddable flood is shed with 429s.
 */
import { writeFileSync } from "node:fs";
import { parseConfig } from "../src/config/load.ts";
import { createGateway } from "../src/gateway.ts";
import { silentLogger } from "../src/log.ts";
import { serveBun } from "../src/runtime/serve-bun.ts";
import { startSimulators } from "../src/simulator/index.ts";
import { fmt, quantile, runOpenLoop, type Sample, type StreamSpec } from "./lib/load.ts";

const SECONDS = Number(process.env["BENCH_SECONDS"] ?? 20);
const POD = {
  model: "m",
  maxNumSeqs: 5,
  prefillOverheadMs: 20,
  prefillMsPerToken: 0.1,
  interTokenMs: 20,
  jitter: 0.05,
};
const PODS = 4;

const OBJECTIVES = `
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: { name: interactive }
spec: { priority: 0, poolRef: { name: pool } }
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: { name: batch }
spec: { priority: -1, poolRef: { name: pool } }
---
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: { name: pool }
spec: { selector: { matchLabels: { app: sim } }, targetPorts: [{ number: 8000 }] }`;

/**
 * Flow control on: dispatch while fewer than `perPod` requests run per pod, queue the rest.
 * Sheddable traffic (priority −1) only while the pool is under `shedCeiling`, and at most
 * 50 of it queued. A pod runs slower the more it runs (up to 2× at max-num-seqs), so the
 * dispatch limit trades throughput for latency.
 */
const flowOn = (perPod: number, shedCeiling = 1) => `
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
featureGates: [flowControl]
plugins:
  - { type: concurrency-detector, parameters: { maxConcurrency: ${perPod} } }
flowControl:
  defaultRequestTTL: 120s
  defaultPriorityBand: { fairnessPolicyRef: round-robin-fairness-policy }
  priorityBands:
    - { priority: -1, maxRequests: 50, ceiling: ${shedCeiling}, fairnessPolicyRef: round-robin-fairness-policy }`;
const FLOW_ON = flowOn(POD.maxNumSeqs);

const FLOW_OFF = `
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
  - { type: concurrency-detector, parameters: { maxConcurrency: ${POD.maxNumSeqs} } }`;

async function withGateway<T>(picker: string, run: (url: string) => Promise<T>): Promise<T> {
  const pods = await startSimulators(
    serveBun,
    Array.from({ length: PODS }, () => ({ ...POD, port: 0, hostname: "127.0.0.1" })),
  );
  const settings = {
    apiVersion: "gateway.inference.dev/v1alpha1",
    kind: "GatewayConfig",
    logLevel: "silent",
    pool: "pool",
    endpoints: pods.map((p, i) => ({ name: `pod-${i}`, address: `127.0.0.1:${p.port}`, models: ["m"] })),
  };
  const config = parseConfig([JSON.stringify(settings), OBJECTIVES, picker].join("\n---\n"), "bench.yaml");
  const gateway = createGateway({ config, logger: silentLogger() });
  gateway.start();
  const server = await serveBun({ fetch: gateway.fetch, port: 0, hostname: "127.0.0.1" });
  try {
    return await run(`http://127.0.0.1:${server.port}`);
  } finally {
    await gateway.stop();
    await server.close();
    await Promise.all(pods.map((p) => p.close()));
  }
}

const body = (tenant: string) => (i: number) => ({
  model: "m",
  max_tokens: 20,
  messages: [{ role: "user", content: `${tenant} question ${i}: ${"context ".repeat(50)}` }],
});

/** Pool capacity ≈ pods × seqs / request time (~0.45 s): ≈ 44 req/s. */
const B_RATE = 4;
const tenant = (name: string, rate: number, extra: Record<string, string> = {}): StreamSpec => ({
  tag: name,
  rate,
  body: body(name),
  headers: { "x-gateway-inference-fairness-id": name, ...extra },
});

function stats(samples: Sample[], tag: string) {
  const s = samples.filter((x) => x.tag === tag);
  const ok = s.filter((x) => x.status === 200);
  return {
    n: s.length,
    ok: ok.length,
    rejected: s.filter((x) => x.status === 429).length,
    p50: quantile(
      ok.map((x) => x.e2eMs),
      0.5,
    ),
    p90: quantile(
      ok.map((x) => x.e2eMs),
      0.9,
    ),
    ttft90: quantile(
      ok.map((x) => x.ttftMs),
      0.9,
    ),
  };
}

const lines: string[] = [];
const out = (l: string) => {
  console.log(l);
  lines.push(l);
};

out(
  `## Flow control (${PODS} simulated pods × max-num-seqs ${POD.maxNumSeqs}, ${SECONDS} s per run, Poisson arrivals)`,
);
out("");
out("### Noisy neighbour: tenant A at 10× tenant B's rate, pool saturated");
out("");
out("| run | B p50 ms | B p90 ms | B p90 / alone | A sent | A ok | A p90 ms |");
out("|---|---|---|---|---|---|---|");
const alone = stats(
  await withGateway(FLOW_ON, (url) => runOpenLoop(url, [tenant("B", B_RATE)], SECONDS, 1)),
  "B",
);
out(`| B alone | ${fmt(alone.p50)} | ${fmt(alone.p90)} | 1.00 | - | - | - |`);
for (const [name, picker] of [
  ["flow control off", FLOW_OFF],
  [`flow control on, round-robin fairness, ${POD.maxNumSeqs} per pod`, FLOW_ON],
  [`flow control on, round-robin fairness, ${POD.maxNumSeqs - 1} per pod`, flowOn(POD.maxNumSeqs - 1)],
  [`flow control on, round-robin fairness, ${POD.maxNumSeqs - 2} per pod`, flowOn(POD.maxNumSeqs - 2)],
] as const) {
  const samples = await withGateway(picker, (url) =>
    runOpenLoop(url, [tenant("A", B_RATE * 10 * 1.5), tenant("B", B_RATE)], SECONDS, 2),
  );
  const a = stats(samples, "A");
  const b = stats(samples, "B");
  out(
    `| ${name} | ${fmt(b.p50)} | ${fmt(b.p90)} | ${(b.p90 / alone.p90).toFixed(2)} | ${a.n} | ${a.ok} | ${fmt(a.p90)} |`,
  );
}
out("");
out(
  "A's rate is 10× B's plus 50 % (60 req/s against a pool that serves about 44), so the pool stays saturated.",
);
out("");
out("### Priority: an interactive stream (priority 0) under a sheddable flood (priority −1)");
out("");
out("| run | interactive p90 ms | p90 / alone | flood sent | flood ok | flood 429 |");
out("|---|---|---|---|---|---|");
const interactive = tenant("interactive", 8, { "x-gateway-inference-objective": "interactive" });
const flood = tenant("flood", 80, { "x-gateway-inference-objective": "batch" });
const soloI = stats(
  await withGateway(FLOW_ON, (url) => runOpenLoop(url, [interactive], SECONDS, 3)),
  "interactive",
);
out(`| interactive alone | ${fmt(soloI.p90)} | 1.00 | - | - | - |`);
for (const [name, picker] of [
  ["flow control off (gate-off shedding)", FLOW_OFF],
  ["flow control on", FLOW_ON],
  ["flow control on, sheddable band ceiling 0.8", flowOn(POD.maxNumSeqs, 0.8)],
] as const) {
  const samples = await withGateway(picker, (url) => runOpenLoop(url, [interactive, flood], SECONDS, 4));
  const i = stats(samples, "interactive");
  const f = stats(samples, "flood");
  out(`| ${name} | ${fmt(i.p90)} | ${(i.p90 / soloI.p90).toFixed(2)} | ${f.n} | ${f.ok} | ${f.rejected} |`);
}
writeFileSync(new URL("./results/flow-control.md", import.meta.url), `${lines.join("\n")}\n`);
