/**
 * Pool first, then spill (issue 18): a pool of slot pods offered three times its capacity,
 * with a hosted provider behind it in the same AIGatewayRoute rule. Side by side in one
 * run, the same seeded arrivals:
 *   unloaded   interactive requests at 0.3x capacity (the TTFT baseline);
 *   spill      3x capacity (70 % interactive, 30 % sheddable batch), the README's
 *              spillover route as written (hosted backend at priority 1 with a model
 *              override, its spill-after-ms) and the README's flow-control example;
 *   no spill   the same 3x load, the same rule without the hosted backend.
 * Figures: interactive TTFT p50/p90 (censored: a request cut off at the drain limit counts
 * as never answered), the share of interactive requests that spilled, what happened to the
 * batch requests (which never spill), and the pods' mean waiting queue.
 *
 * The provider answers like a pod (the same service time), so a spilled request costs the
 * wait budget plus one service time. Run: `bun run bench/spillover.ts [seconds]`.
 */
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { seededRandom } from "../src/clock.ts";
import { parseConfig } from "../src/config/load.ts";
import { createGateway } from "../src/gateway.ts";
import { silentLogger } from "../src/log.ts";
import { serveBun } from "../src/runtime/serve-bun.ts";
import { readmeFlowConfig, readmeSpillRoute } from "./lib/configs.ts";
import { censoredQuantile, fmt, runOpenLoop, type Sample, type StreamSpec } from "./lib/load.ts";
import { startSlotPod } from "./lib/slot-pod.ts";

const SECONDS = Number(process.argv[2] ?? 10);
const PODS = 2;
const SLOTS = 4;
const SERVICE_MS = 400;
const CAPACITY = (PODS * SLOTS * 1000) / SERVICE_MS; // requests per second
// The README's names: its spillover route sends llama-3-8b to llama-pool, then to openai.
const MODEL = "llama-3-8b";
const POOL = "llama-pool";
const ROUTE = readmeSpillRoute();
const SPILL_AFTER_MS = Number(/spill-after-ms: "(\d+)"/.exec(ROUTE)?.[1]);

/** A hosted OpenAI-compatible provider that answers like a pod: SERVICE_MS, then one SSE content chunk. */
function startProvider() {
  let count = 0;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const body = (await req.json()) as { model: string };
      count++;
      await Bun.sleep(SERVICE_MS);
      const chunk = {
        id: "h",
        object: "chat.completion.chunk",
        model: body.model,
        choices: [{ index: 0, delta: { content: "hosted" } }],
      };
      const usage = {
        id: "h",
        object: "chat.completion.chunk",
        model: body.model,
        choices: [],
        usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
      };
      return new Response(
        `data: ${JSON.stringify(chunk)}\n\ndata: ${JSON.stringify(usage)}\n\ndata: [DONE]\n\n`,
        {
          headers: { "content-type": "text/event-stream" },
        },
      );
    },
  });
  return { port: server.port as number, count: () => count, stop: () => server.stop(true) };
}

function configYaml(pods: string[], providerPort: number, spill: boolean): string {
  const settings = {
    apiVersion: "gateway.inference.dev/v1alpha1",
    kind: "GatewayConfig",
    logLevel: "silent",
    dataLayer: { scrapeIntervalMs: 50 },
    endpoints: pods.map((address, i) => ({ name: `pod-${i}`, address, models: [MODEL] })),
  };
  // Without spillover: the same route minus its hosted backend.
  const route = spill ? ROUTE : ROUTE.replace(/\n\s*- \{ name: openai,[^\n]*/, "");
  return [
    JSON.stringify(settings),
    `apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: { name: ${POOL} }
spec: { selector: { matchLabels: { app: sim } }, targetPorts: [{ number: 8000 }] }`,
    `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: { name: batch }
spec: { priority: -1, poolRef: { name: ${POOL} } }`,
    // The README's flow-control example, as written.
    readmeFlowConfig(),
    route,
    `apiVersion: aigateway.envoyproxy.io/v1beta1
kind: AIServiceBackend
metadata: { name: openai }
spec:
  schema: { name: OpenAI }
  backendRef: { name: openai, kind: Backend, group: gateway.envoyproxy.io }`,
    `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: { name: openai }
spec: { endpoints: [{ ip: { address: 127.0.0.1, port: ${providerPort} } }] }`,
  ].join("\n---\n");
}

interface Result {
  name: string;
  interactive: Sample[];
  batch: Sample[];
  spilled: number;
  meanWaiting: number;
}

async function scenario(name: string, spill: boolean, rate: number, batchRate: number): Promise<Result> {
  const pods = await Promise.all(
    Array.from({ length: PODS }, (_, i) =>
      startSlotPod({ model: MODEL, slots: SLOTS, serviceMs: SERVICE_MS, seed: 11 + i }),
    ),
  );
  const provider = startProvider();
  const gateway = createGateway({
    config: parseConfig(
      configYaml(
        pods.map((p) => p.address),
        provider.port,
        spill,
      ),
      "spillover.yaml",
    ),
    logger: silentLogger(),
    random: seededRandom(3),
  });
  gateway.start();
  const server = await serveBun({ fetch: gateway.fetch, port: 0, hostname: "127.0.0.1" });
  try {
    await Bun.sleep(300); // first scrape
    for (const p of pods) p.resetStats();
    const body = (i: number) => ({
      model: MODEL,
      messages: [{ role: "user", content: `q${i}` }],
      max_tokens: 1,
    });
    const streams: StreamSpec[] = [{ tag: "interactive", rate, body }];
    if (batchRate > 0)
      streams.push({
        tag: "batch",
        rate: batchRate,
        body,
        headers: { "x-gateway-inference-objective": "batch" },
      });
    const samples = await runOpenLoop(`http://127.0.0.1:${server.port}`, streams, SECONDS, 42, {
      drainSeconds: 15,
    });
    const interactive = samples.filter((s) => s.tag === "interactive");
    return {
      name,
      interactive,
      batch: samples.filter((s) => s.tag === "batch"),
      // The pool path names the pod that served; a spilled answer comes from the provider.
      spilled: interactive.filter((s) => s.status === 200 && !s.endpoint).length,
      meanWaiting: pods.reduce((sum, p) => sum + p.stats().meanWaiting, 0) / PODS,
    };
  } finally {
    await gateway.stop();
    await server.close();
    provider.stop();
    await Promise.all(pods.map((p) => p.close()));
  }
}

const ttft = (xs: Sample[], q: number) =>
  censoredQuantile(
    xs.map((s) => (s.status === 200 && Number.isFinite(s.ttftMs) ? s.ttftMs : Number.POSITIVE_INFINITY)),
    q,
  );

const load0 = loadavg()[0]!;
const unloaded = await scenario("unloaded (0.3x)", true, 0.3 * CAPACITY, 0);
const heavy = 3 * CAPACITY;
const withSpill = await scenario("3x, spill on", true, 0.7 * heavy, 0.3 * heavy);
const noSpill = await scenario("3x, spill off", false, 0.7 * heavy, 0.3 * heavy);
const load1 = loadavg()[0]!;

const base90 = ttft(unloaded.interactive, 0.9);
const rows = [unloaded, withSpill, noSpill].map((r) => {
  const p90 = ttft(r.interactive, 0.9);
  const batchOk = r.batch.filter((s) => s.status === 200).length;
  const batchShed = r.batch.filter((s) => s.status === 429 || s.status === 503).length;
  const batchCut = r.batch.length - batchOk - batchShed;
  return `| ${r.name} | ${r.interactive.length} | ${fmt(ttft(r.interactive, 0.5))} | ${fmt(p90)} | ${Number.isFinite(p90) ? (p90 / base90).toFixed(2) : "∞"}x | ${r.interactive.length ? ((100 * r.spilled) / r.interactive.length).toFixed(1) : "-"} % | ${r.batch.length ? `${batchOk} / ${batchShed} / ${batchCut}` : "-"} | ${r.meanWaiting.toFixed(2)} |`;
});
const report = `# Pool first, then spill (bench/spillover.ts)

${PODS} slot pods x ${SLOTS} slots, ${SERVICE_MS} ms service time: capacity ${CAPACITY} req/s. The config is the
README's: its flow-control example and its spillover route, as written (read from README.md). The hosted
provider answers in the same ${SERVICE_MS} ms. Spill budget ${SPILL_AFTER_MS} ms (\`gateway.inference.dev/spill-after-ms\`). ${SECONDS} s of Poisson arrivals per
scenario (seed 42), at most 15 s of drain; a request cut off then counts as never answered (p90 ∞).
Load average ${load0.toFixed(2)} before, ${load1.toFixed(2)} after (2 cores, shared).

| scenario | interactive requests | TTFT p50 ms | TTFT p90 ms | p90 vs unloaded | interactive spilled | batch ok / shed / cut off | pods' mean waiting |
|---|---:|---:|---:|---:|---:|---:|---:|
${rows.join("\n")}

Target: interactive TTFT p90 within 1.5x of unloaded with spill on.
`;
console.log(report);
writeFileSync(new URL("./results/spillover.md", import.meta.url), report);
