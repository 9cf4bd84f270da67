/**
 * Flow-control benchmark (run on purpose: `npm run bench:flow`), with the README's example
 * EndpointPickerConfig as written (read from README.md, so the two cannot drift), in front
 * of pods with a fixed number of slots and a load-independent service time
 * (bench/lib/slot-pod.ts). Everything is measured side by side in one run:
 *  1. Noisy neighbour: tenant A in a closed loop that saturates the pool, tenant B at a
 *     low rate. B's p90 against its p90 alone, flow control off and on.
 *  2. Priority: a priority-10 stream under a sheddable flood; p90 against alone, flood 429s.
 *  3. The gate: queueDepthThreshold 2, a closed loop of 60: the pods' time-weighted mean
 *     waiting queue and throughput, off and on.
 */
import { execSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { parseConfig } from "../src/config/load.ts";
import { createGateway, type Gateway } from "../src/gateway.ts";
import { silentLogger } from "../src/log.ts";
import { serveBun } from "../src/runtime/serve-bun.ts";
import { runClosedLoop } from "./lib/closed-loop.ts";
import { readmeFlowConfig } from "./lib/configs.ts";
import { fmt, quantile, runOpenLoop, type Sample, type StreamSpec } from "./lib/load.ts";
import { type SlotPod, startSlotPod } from "./lib/slot-pod.ts";

const SECONDS = Number(process.env["BENCH_SECONDS"] ?? 15);
const PODS = 4;
const SLOTS = 4;
const SERVICE_MS = 400;
/** Pool capacity: PODS × SLOTS / service time. */
const CAPACITY = (PODS * SLOTS * 1000) / SERVICE_MS;
/**
 * Closed-loop clients start spread over this long, so that the first PODS × SLOTS of them
 * (the ones that take the slots) start spread over one service time. With a near-constant
 * service time every later request inherits those phases; started together, all slots
 * would end within a few ms of each other, round after round, an artefact of the pod model.
 */
const stagger = (clients: number) => (SERVICE_MS * clients) / (PODS * SLOTS);

const FLOW_ON = readmeFlowConfig();
/** The same config with the feature gate off: gate-off admission, same detector thresholds. */
const FLOW_OFF = FLOW_ON.replace(/^featureGates: \[flowControl\]\n/m, "");
const withThreshold = (yaml: string, q: number) =>
  yaml.replace(/queueDepthThreshold: \d+/, `queueDepthThreshold: ${q}`);

const OBJECTIVES = `
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: { name: critical }
spec: { priority: 10, poolRef: { name: pool } }
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: { name: batch }
spec: { priority: -1, poolRef: { name: pool } }
---
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: { name: pool }
spec: { selector: { matchLabels: { app: pod } }, targetPorts: [{ number: 8000 }] }`;

interface Run {
  url: string;
  pods: SlotPod[];
  gateway: Gateway;
}

async function withPool<T>(picker: string, run: (r: Run) => Promise<T>, kvAtFull = 1): Promise<T> {
  const pods = await Promise.all(
    Array.from({ length: PODS }, (_, i) =>
      startSlotPod({ model: "m", slots: SLOTS, serviceMs: SERVICE_MS, kvAtFull, seed: i + 1 }),
    ),
  );
  const settings = {
    apiVersion: "gateway.inference.dev/v1alpha1",
    kind: "GatewayConfig",
    logLevel: "silent",
    pool: "pool",
    endpoints: pods.map((p, i) => ({ name: `pod-${i}`, address: p.address, models: ["m"] })),
  };
  const config = parseConfig([JSON.stringify(settings), OBJECTIVES, picker].join("\n---\n"), "bench.yaml");
  const gateway = createGateway({ config, logger: silentLogger() });
  gateway.start();
  const server = await serveBun({ fetch: gateway.fetch, port: 0, hostname: "127.0.0.1" });
  await Bun.sleep(300); // every pod scraped before traffic
  try {
    return await run({ url: `http://127.0.0.1:${server.port}`, pods, gateway });
  } finally {
    await gateway.stop();
    await server.close();
    await Promise.all(pods.map((p) => p.close()));
  }
}

const body = (tenant: string) => (i: number) => ({
  model: "m",
  max_tokens: 16,
  messages: [{ role: "user", content: `${tenant} question ${i}` }],
});
const stream = (tag: string, rate: number, headers: Record<string, string> = {}): StreamSpec => ({
  tag,
  rate,
  body: body(tag),
  headers: { "x-gateway-inference-fairness-id": tag, ...headers },
});

function stats(samples: Sample[], tag: string) {
  const s = samples.filter((x) => x.tag === tag);
  const ok = s.filter((x) => x.status === 200).map((x) => x.e2eMs);
  return {
    n: s.length,
    ok: ok.length,
    rejected: s.filter((x) => x.status === 429).length,
    p50: quantile(ok, 0.5),
    p90: quantile(ok, 0.9),
  };
}

/** Pods' figures over the measured window (after 2 s of warm-up), summed or averaged. */
async function podWindow(pods: SlotPod[], seconds: number, work: Promise<unknown>) {
  await Bun.sleep(2000);
  for (const p of pods) p.resetStats();
  const t0 = performance.now();
  await Bun.sleep((seconds - 2) * 1000 - 50);
  const span = (performance.now() - t0) / 1000;
  const s = pods.map((p) => p.stats());
  await work;
  return {
    meanWaiting: s.reduce((a, x) => a + x.meanWaiting, 0) / s.length,
    maxWaiting: Math.max(...s.map((x) => x.maxWaiting)),
    meanRunning: s.reduce((a, x) => a + x.meanRunning, 0) / s.length,
    throughput: s.reduce((a, x) => a + x.completed, 0) / span,
  };
}

const lines: string[] = [];
const out = (l = "") => {
  console.log(l);
  lines.push(l);
};
const uptime = () => execSync("uptime").toString().trim();

const loadBefore = uptime();
out(`## Flow control: the README's example config against ${PODS} pods × ${SLOTS} slots`);
out("");
out(
  `Pods: bench/lib/slot-pod.ts, ${SLOTS} slots each, FCFS waiting queue, ${SERVICE_MS} ms per request (±5 %) whatever the load, KV usage = running / slots; pool capacity ${CAPACITY} req/s. Closed-loop clients start spread so that the slots' phases are. ${SECONDS} s per run, Bun, everything in one process. Machine load before: \`${loadBefore}\`.`,
);
out("");
out("Config (from README.md, as written):");
out("");
out("```yaml");
out(FLOW_ON.trimEnd());
out("```");
out("");

// 1. Noisy neighbour
const A_CLIENTS = 40;
const B_RATE = 3;
out(`### Noisy neighbour: tenant A in a closed loop of ${A_CLIENTS}, tenant B at ${B_RATE} req/s`);
out("");
out("| run | B p50 ms | B p90 ms | B p90 / alone | A done | A req/s | A p90 ms |");
out("|---|---|---|---|---|---|---|");
const aloneB = stats(
  await withPool(FLOW_ON, ({ url }) => runOpenLoop(url, [stream("B", B_RATE)], SECONDS, 1)),
  "B",
);
out(`| B alone | ${fmt(aloneB.p50)} | ${fmt(aloneB.p90)} | 1.00 | - | - | - |`);
for (const [name, picker] of [
  ["flow control off", FLOW_OFF],
  ["flow control on (README config)", FLOW_ON],
  [
    "flow control on, token-fairness-policy instead",
    FLOW_ON.replace(
      "fairnessPolicyRef: round-robin-fairness-policy",
      "fairnessPolicyRef: token-fairness-policy",
    ),
  ],
] as const) {
  const samples = await withPool(picker, async ({ url }) => {
    const [a, b] = await Promise.all([
      runClosedLoop(url, stream("A", 0), A_CLIENTS, SECONDS, { seed: 2, staggerMs: stagger(A_CLIENTS) }),
      runOpenLoop(url, [stream("B", B_RATE)], SECONDS, 3),
    ]);
    return [...a, ...b];
  });
  const a = stats(samples, "A");
  const b = stats(samples, "B");
  out(
    `| ${name} | ${fmt(b.p50)} | ${fmt(b.p90)} | **${(b.p90 / aloneB.p90).toFixed(2)}** | ${a.ok} | ${(a.ok / SECONDS).toFixed(1)} | ${fmt(a.p90)} |`,
  );
}
out("");

// 2. Priority
const CRIT_RATE = 4;
const FLOOD_RATE = 2 * CAPACITY;
out(
  `### Priority: a priority-10 stream at ${CRIT_RATE} req/s under a sheddable (priority −1) flood at ${FLOOD_RATE} req/s`,
);
out("");
out("| run | critical p50 ms | critical p90 ms | p90 / alone | flood sent | flood ok | flood 429 |");
out("|---|---|---|---|---|---|---|");
const critical = stream("critical", CRIT_RATE, { "x-gateway-inference-objective": "critical" });
const flood = stream("flood", FLOOD_RATE, { "x-gateway-inference-objective": "batch" });
const aloneC = stats(
  await withPool(FLOW_ON, ({ url }) => runOpenLoop(url, [critical], SECONDS, 4)),
  "critical",
);
out(`| critical alone | ${fmt(aloneC.p50)} | ${fmt(aloneC.p90)} | 1.00 | - | - | - |`);
for (const [name, picker] of [
  ["flow control off (gate-off shedding)", FLOW_OFF],
  ["flow control on (README config)", FLOW_ON],
] as const) {
  const samples = await withPool(picker, ({ url }) => runOpenLoop(url, [critical, flood], SECONDS, 5));
  const c = stats(samples, "critical");
  const f = stats(samples, "flood");
  out(
    `| ${name} | ${fmt(c.p50)} | ${fmt(c.p90)} | **${(c.p90 / aloneC.p90).toFixed(2)}** | ${f.n} | ${f.ok} | ${f.rejected} |`,
  );
}
out("");

// 3. The gate
const CLIENTS = 60;
out(`### The gate: queueDepthThreshold 2, a closed loop of ${CLIENTS} clients`);
out("");
out(
  "| run | pod KV at full | pods' mean waiting | max waiting | mean running / pod | throughput req/s | p50 ms | p90 ms |",
);
out("|---|---|---|---|---|---|---|---|");
for (const kvAtFull of [1, 0.5]) {
  for (const [name, picker] of [
    ["flow control off", withThreshold(FLOW_OFF, 2)],
    ["flow control on", withThreshold(FLOW_ON, 2)],
  ] as const) {
    let samples: Sample[] = [];
    const w = await withPool(
      picker,
      ({ url, pods }) => {
        const work = runClosedLoop(url, stream("C", 0), CLIENTS, SECONDS, {
          seed: 6,
          staggerMs: stagger(CLIENTS),
        }).then((s) => {
          samples = s;
        });
        return podWindow(pods, SECONDS, work);
      },
      kvAtFull,
    );
    const c = stats(samples, "C");
    out(
      `| ${name} | ${kvAtFull} | **${w.meanWaiting.toFixed(2)}** | ${w.maxWaiting} | ${w.meanRunning.toFixed(2)} | **${w.throughput.toFixed(1)}** | ${fmt(c.p50)} | ${fmt(c.p90)} |`,
    );
  }
}
out("");
out(`Machine load after: \`${uptime()}\`.`);
writeFileSync(new URL("./results/flow-control.md", import.meta.url), `${lines.join("\n")}\n`);
