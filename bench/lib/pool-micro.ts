/**
 * The gateway's own work per request against the number of pools, without network or
 * background work: `createGateway` in this process with a fetch that answers at once
 * (canned vLLM-style answers, /metrics and /v1/models too), one scrape round before
 * measuring and no timers. What is left is the request path (routing to a pool, stages,
 * scheduling, accounting, metrics, logging): its CPU per request, measured with
 * process.cpuUsage() over a batch, variants interleaved, medians. This separates what
 * grows with pools from machine noise, which the process-level figures carry a lot of.
 */
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseConfig } from "../../src/config/load.ts";
import type { FetchFn } from "../../src/deps.ts";
import { createGateway, type Gateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { FLOW_EPP } from "./flow-epp.ts";
import type { Variant } from "./pool-overhead.ts";

const ANSWER = JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 1700000000,
  model: "m",
  choices: [{ index: 0, message: { role: "assistant", content: "Hello!" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 12, completion_tokens: 9, total_tokens: 21 },
});
const METRICS = [
  "# TYPE vllm:num_requests_waiting gauge",
  'vllm:num_requests_waiting{model_name="m"} 0',
  "# TYPE vllm:num_requests_running gauge",
  'vllm:num_requests_running{model_name="m"} 1',
  "# TYPE vllm:kv_cache_usage_perc gauge",
  'vllm:kv_cache_usage_perc{model_name="m"} 0.1',
  "",
].join("\n");

/** A pod with a full queue (flow control's detector counts it without room: 9 / 5). */
const FULL_METRICS = METRICS.replace(
  'num_requests_waiting{model_name="m"} 0',
  'num_requests_waiting{model_name="m"} 9',
);

/** Answers every upstream call at once, as a pod would; pods `isFull` says report a full queue. */
function podFetch(isFull: (url: string) => boolean): FetchFn {
  return async (url, init) => {
    if (url.endsWith("/metrics"))
      return new Response(isFull(url) ? FULL_METRICS : METRICS, {
        headers: { "content-type": "text/plain" },
      });
    return answerOf(url, init);
  };
}

const instantFetch = podFetch(() => false);

/**
 * The variant's pods: every other one full (`h`: odd-numbered ones, whose address ends in an
 * even octet), or all but the last (`l`: a saturated pool with one place, where queued
 * requests wait at the gateway and each completion's dispatch walks the full ones).
 */
function fetchOf(v: Variant): FetchFn {
  if (v.full === "half") return podFetch((url) => /\.\d*[02468]:8000\//.test(url));
  if (v.full === "allButLast") {
    const last = `.${v.endpointsPerPool}:8000/`;
    return podFetch((url) => !url.includes(last));
  }
  return instantFetch;
}

/** A pod's answer to anything but /metrics. */
const answerOf: FetchFn = async (url, init) => {
  if (url.endsWith("/v1/models"))
    return Response.json({ object: "list", data: [{ id: "m", object: "model" }] });
  if (init.body instanceof ReadableStream) await new Response(init.body).arrayBuffer();
  return new Response(ANSWER, { headers: { "content-type": "application/json" } });
};

function configOf(v: Variant, lastModel: string): string {
  const endpoints: unknown[] = [];
  const docs: string[] = [];
  for (let k = 0; k < v.pools; k++) {
    const models = v.pools === 1 ? ["model-0", lastModel] : [`model-${k}`];
    for (let i = 0; i < v.endpointsPerPool; i++)
      endpoints.push({
        name: `p${k}-e${i}`,
        address: `10.0.${k}.${i + 1}:8000`,
        models,
        labels: { app: `pool-${k}` },
      });
    const ref = v.flow ? ", endpointPickerRef: { name: flow-epp }" : "";
    docs.push(`apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: { name: pool-${k} }
spec: { selector: { matchLabels: { app: pool-${k} } }, targetPorts: [{ number: 8000 }]${ref} }`);
  }
  if (v.flow) docs.push(FLOW_EPP);
  const settings = { apiVersion: "gateway.inference.dev/v1alpha1", kind: "GatewayConfig", endpoints };
  return [JSON.stringify(settings), ...docs].join("\n---\n");
}

/** This tree's gateway modules, or another checkout's (`root`): both measured by this harness. */
async function gatewayModules(root?: string) {
  if (root === undefined) return { parseConfig, createGateway, silentLogger };
  const at = (path: string) => pathToFileURL(resolve(root, path)).href;
  const [config, gateway, log] = await Promise.all([
    import(at("src/config/load.ts")),
    import(at("src/gateway.ts")),
    import(at("src/log.ts")),
  ]);
  return {
    parseConfig: config.parseConfig as typeof parseConfig,
    createGateway: gateway.createGateway as typeof createGateway,
    silentLogger: log.silentLogger as typeof silentLogger,
  };
}

/**
 * A gateway for `v` with the instant fetch, scraped once, no background timers; built from
 * the checkout at `root` when given (a baseline measured beside this tree).
 */
export async function microGateway(v: Variant, lastModel: string, root?: string): Promise<Gateway> {
  const { parseConfig, createGateway, silentLogger } = await gatewayModules(root);
  const gateway = createGateway({
    config: parseConfig(configOf(v, lastModel), `${v.id}.yaml`),
    logger: silentLogger(),
    fetch: fetchOf(v),
  });
  gateway.start({ timers: false });
  await gateway.refresh({ models: true });
  return gateway;
}

/**
 * CPU µs per request over `n` requests, `concurrency` at a time, bodies for `models` in
 * turn. Throws on any non-200 (a benchmark that measures errors measures nothing).
 */
export async function microBatch(
  gateway: Gateway,
  models: readonly string[],
  n: number,
  concurrency = 8,
): Promise<number> {
  const bodies = models.map((model) =>
    JSON.stringify({
      model,
      messages: [{ role: "user", content: "Hello, how are you today?" }],
      max_tokens: 16,
    }),
  );
  let next = 0;
  const cpu0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const res = await gateway.fetch(
          new Request("http://gateway/v1/chat/completions", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: bodies[i % bodies.length]!,
          }),
        );
        const text = await res.text();
        if (res.status !== 200) throw new Error(`micro: ${res.status} ${text.slice(0, 200)}`);
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / n;
}

const median = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
};

/** A variant, optionally of another checkout (`root`: BENCH_GATEWAY_ROOT's baseline). */
export type MicroVariant = Variant & { root?: string };

/** The request mix of a variant: the first pool's model and the last's (one pool: it serves both). */
const mixOf = (v: Variant) => ["model-0", `model-${Math.max(v.pools, 10) - 1}`];

/** Runs the variants interleaved (order rotating), `rounds` batches of `n` each; the section's lines. */
export async function microSection(opts: {
  variants: MicroVariant[];
  rounds: number;
  n: number;
}): Promise<{ lines: string[]; median: (id: string) => number; rounds: (id: string) => number[] }> {
  const gateways = new Map<string, Gateway>();
  for (const v of opts.variants) gateways.set(v.id, await microGateway(v, mixOf(v)[1]!, v.root));
  // Warm-up: JIT and caches, not recorded.
  for (const v of opts.variants) {
    await gateways.get(v.id)!.refresh();
    await microBatch(gateways.get(v.id)!, mixOf(v), opts.n);
  }
  const got = new Map<string, number[]>();
  for (let r = 0; r < opts.rounds; r++)
    for (let k = 0; k < opts.variants.length; k++) {
      const v = opts.variants[(k + r) % opts.variants.length]!;
      // Scraped first: without timers the snapshots go stale after 2 s, and flow control's
      // detector then counts every pod saturated (a "f" variant would only queue).
      await gateways.get(v.id)!.refresh();
      const us = await microBatch(gateways.get(v.id)!, mixOf(v), opts.n);
      got.set(v.id, [...(got.get(v.id) ?? []), us]);
    }
  await Promise.all([...gateways.values()].map((g) => g.stop()));
  const base = median(got.get(opts.variants[0]!.id)!);
  const rows = opts.variants.map((v) => {
    const xs = got.get(v.id)!;
    const m = median(xs);
    console.log(`micro ${v.id}: ${xs.map((x) => x.toFixed(0)).join(", ")} µs/req`);
    return `| ${v.id} | ${v.pools} | ${v.endpointsPerPool} | ${m.toFixed(1)} | ${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)} | **${(m / base).toFixed(2)}** |`;
  });
  const lines = [
    "### The request path alone, in-process",
    "",
    "`createGateway` in the benchmark process with a fetch that answers at once (canned chat answer, /metrics, " +
      "/v1/models), scraped once, no background timers, default profile, logger silent: CPU µs per request " +
      `(process.cpuUsage over ${opts.n} requests, 8 at a time, through \`gateway.fetch\`), ${opts.rounds} interleaved ` +
      "rounds after a warm-up batch, median and range. Request mix: the first pool's model and the last pool's in turn " +
      "(one pool serves both). No network, no scraping: what is left is routing to the pool, the stages, the scheduler, " +
      "accounting and metrics.",
    "",
    "| variant | pools | endpoints per pool | CPU µs/req (median) | range | ÷ first |",
    "|---|---|---|---|---|---|",
    ...rows,
    "",
  ];
  return { lines, median: (id) => median(got.get(id) ?? []), rounds: (id) => got.get(id) ?? [] };
}

/**
 * One scheduling decision alone, on a micro gateway's own pool (its scheduler, its scraped
 * endpoints, the data layer's candidate filter): CPU ns per decision over `n` decisions
 * (`usableEndpoints` + `schedule` + the lifecycle's end, as a request makes them, no HTTP),
 * variants interleaved, `rounds` rounds, medians. Separates what grows with the endpoints
 * in the decision from the rest of the request path. `root` variants use that checkout's
 * modules for the filter too.
 */
export async function decisionSection(opts: {
  variants: MicroVariant[];
  rounds: number;
  n: number;
}): Promise<{ lines: string[]; median: (id: string) => number }> {
  const runs = new Map<string, () => number>();
  const gateways: Gateway[] = [];
  for (const v of opts.variants) {
    const g = await microGateway(v, mixOf(v)[1]!, v.root);
    gateways.push(g);
    const { usableEndpoints } = (await import(
      pathToFileURL(
        resolve(v.root ?? resolve(fileURLToPath(import.meta.url), "../../.."), "src/endpoints/usable.ts"),
      ).href
    )) as typeof import("../../src/endpoints/usable.ts");
    const pool = g.deps.endpoints;
    const body = { model: "model-0", messages: [{ role: "user", content: "Hello, how are you today?" }] };
    const headers = new Headers();
    const health = g.deps.health;
    const clock = g.deps.clock;
    const stalenessMs = g.deps.config.current.settings.dataLayer.stalenessMs;
    runs.set(v.id, () => {
      const cpu0 = process.cpuUsage();
      for (let i = 0; i < opts.n; i++) {
        const usable = usableEndpoints(pool.serving("model-0"), { health, now: clock.now(), stalenessMs });
        const d = g.deps.scheduler.schedule(
          { requestId: "r", targetModel: "model-0", body, kind: "chat", headers },
          usable,
        );
        d.lifecycle?.responseReceived(d.endpoints[0]!, { status: 200, headers });
        d.lifecycle?.responseComplete("success");
      }
      const cpu = process.cpuUsage(cpu0);
      return ((cpu.user + cpu.system) * 1000) / opts.n;
    });
  }
  const variantIndex = (v: MicroVariant) => opts.variants.indexOf(v);
  for (const run of runs.values()) run(); // warm-up
  const got = new Map<string, number[]>();
  for (let r = 0; r < opts.rounds; r++)
    for (let k = 0; k < opts.variants.length; k++) {
      const v = opts.variants[(k + r) % opts.variants.length]!;
      // A scrape round first: without timers the snapshots go stale after `stalenessMs`
      // (2 s), and every decision would then take the candidate filter's lagging path.
      await gateways[variantIndex(v)]!.refresh();
      got.set(v.id, [...(got.get(v.id) ?? []), runs.get(v.id)!()]);
      await Promise.resolve(); // the prefix index records picks in a microtask
    }
  await Promise.all(gateways.map((g) => g.stop()));
  const rows = opts.variants.map((v) => {
    const xs = got.get(v.id)!;
    return `| ${v.id} | ${v.endpointsPerPool} | ${median(xs).toFixed(0)} | ${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)} |`;
  });
  const lines = [
    "### One decision alone, in-process",
    "",
    `The candidate filter, \`schedule\` and the lifecycle's end on the micro gateway's pool: CPU ns per decision over ${opts.n} decisions, ${opts.rounds} interleaved rounds, median and range.`,
    "",
    "| variant | endpoints | CPU ns/decision (median) | range |",
    "|---|---|---|---|",
    ...rows,
    "",
  ];
  return { lines, median: (id) => median(got.get(id) ?? []) };
}

/**
 * Run alone: `bun bench/lib/pool-micro.ts [variants] [rounds] [n]`, e.g. `p1e4,p1e16,p1e64 7 4000`
 * (p<pools>e<endpoints per pool>, an "f" after it: flow control on with the README's example,
 * e.g. p1e64f; then an "h": every other pod reports a full queue, e.g. p1e64fh, or an "l": all
 * but the last, e.g. p1e64fl): the
 * in-process section only, printed, then the cost per
 * endpoint (slope between the fewest and the most endpoints of one pool count). Under Node:
 * `node --import tsx bench/lib/pool-micro.ts …`. BENCH_GATEWAY_ROOT=<another checkout> runs
 * that tree's gateway beside this one (`<id>-base`, same rounds) and prints the paired
 * differences (this tree − base, round by round: what noise moves both by cancels).
 * BENCH_DECISION=1: one decision alone instead (`decisionSection`; n = decisions a round).
 */
const main =
  (import.meta as { main?: boolean }).main ??
  (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url));
if (main) {
  const [ids = "p1e4,p1e64", rounds = "7", n = "4000"] = process.argv.slice(2);
  const baseRoot = process.env["BENCH_GATEWAY_ROOT"];
  const variants: MicroVariant[] = ids.split(",").flatMap((id) => {
    const m = /^p(\d+)e(\d+)(f?)([hl]?)$/.exec(id);
    if (!m) throw new Error(`'${id}' is not p<pools>e<endpoints per pool>[f][h|l]`);
    const v = {
      id,
      pools: Number(m[1]),
      endpointsPerPool: Number(m[2]),
      quiet: true,
      flow: m[3] === "f",
      full: m[4] === "h" ? ("half" as const) : m[4] === "l" ? ("allButLast" as const) : undefined,
    };
    return baseRoot ? [v, { ...v, id: `${id}-base`, root: resolve(baseRoot) }] : [v];
  });
  if (process.env["BENCH_DECISION"] === "1") {
    // BENCH_DECISION=1: the decision alone (decisionSection), n decisions a round.
    const d = await decisionSection({ variants, rounds: Number(rounds), n: Number(n) });
    console.log(d.lines.join("\n"));
    const ours = variants.filter((v) => v.root === undefined);
    const span = ours.at(-1)!.endpointsPerPool - ours[0]!.endpointsPerPool;
    for (const suffix of baseRoot ? ["", "-base"] : [""])
      if (span > 0)
        console.log(
          `  per endpoint${suffix ? ", base" : ""}: ${((d.median(ours.at(-1)!.id + suffix) - d.median(ours[0]!.id + suffix)) / span).toFixed(1)} ns`,
        );
    process.exit(0);
  }
  const section = await microSection({ variants, rounds: Number(rounds), n: Number(n) });
  console.log(section.lines.join("\n"));
  const runtime = typeof Bun !== "undefined" ? `Bun ${Bun.version}` : `Node ${process.version}`;
  console.log(`${runtime}, medians:`);
  const ours = variants.filter((v) => v.root === undefined);
  const slope = (suffix: string) => {
    const first = ours[0]!;
    const last = ours[ours.length - 1]!;
    const span = last.endpointsPerPool - first.endpointsPerPool;
    if (span <= 0 || first.pools !== last.pools) return undefined;
    return (section.median(last.id + suffix) - section.median(first.id + suffix)) / span;
  };
  const s = slope("");
  if (s !== undefined)
    console.log(`  per endpoint (slope ${ours[0]!.id} → ${ours.at(-1)!.id}): ${s.toFixed(3)} µs`);
  if (baseRoot) {
    const b = slope("-base");
    if (b !== undefined) console.log(`  per endpoint, base: ${b.toFixed(3)} µs`);
    for (const v of ours) {
      const a = section.rounds(v.id);
      const d = a.map((x, i) => x - section.rounds(`${v.id}-base`)[i]!);
      const lower = d.filter((x) => x < 0).length;
      console.log(
        `  ${v.id}: ${section.median(v.id).toFixed(1)} vs base ${section.median(`${v.id}-base`).toFixed(1)} µs; ` +
          `paired difference median ${median(d).toFixed(1)} µs (lower in ${lower} of ${d.length})`,
      );
    }
  }
  process.exit(0);
}
