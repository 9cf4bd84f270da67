/**
 * What the gateway's Hono chain costs by itself (issue 19: "measure the cost of the chain
 * itself"). In-process, no network: `app.fetch(new Request(...))` in a loop, the same
 * POST as the overhead benchmark's small JSON case, answered with a prebuilt body.
 *
 * - chain-11: `request-id` as app.use plus 11 route middlewares (scope, authenticate,
 *   parse, route, rewrite, authorize, candidates, accepted, admit, schedule, forward),
 *   each an async function that sets one context variable and awaits next(), as the
 *   stages do;
 * - composed: one route handler that calls 12 plain functions in order with one
 *   per-request object (the shape src/stages/pipeline.ts now has: one handler per inference
 *   route, the stages plain steps over an Exchange);
 * - bare: one route handler that answers at once (Hono's routing and Response alone);
 * - gateway: the real app (`createGateway` on a one-pool config with two endpoints, the default
 *   scheduling profile, metrics and the request log on, written to a sink that drops it), its
 *   fetch seam answering every pod call at once with a prebuilt chat completion: the whole
 *   pipeline's in-process cost, so the figure is the gateway's, not a model of it. With
 *   BENCH_GATEWAY_ROOT=<another checkout> that tree's gateway runs beside it as gateway-base;
 *   with BENCH_SILENT=1 the same gateway at logLevel silent, as gateway-silent (what the
 *   log line costs in the pipeline; with BENCH_LOG=stdout, through the production writer).
 *
 * Run: `bun bench/overhead/hono-chain.ts` and `node --import tsx bench/overhead/hono-chain.ts`.
 * Prints µs per request (median of BENCH_ROUNDS rounds, default 5, of BENCH_N requests, default
 * 100,000), wall time of one request at a time unless BENCH_CONCURRENCY (requests at a time) and
 * BENCH_CPU=1 (process CPU, the collector's threads included) say otherwise; with a base, the
 * median paired difference too. Every answer's body is read.
 */
import { resolve } from "node:path";
import { Hono } from "hono";

const N = Number(process.env["BENCH_N"] ?? 100_000);
const TO_STDOUT = process.env["BENCH_LOG"] === "stdout";
const print = TO_STDOUT ? console.error : console.log;
const STAGES = 11;
const body = new TextEncoder().encode('{"id":"x","object":"chat.completion","choices":[]}');
const reqBody = '{"model":"m","messages":[{"role":"user","content":"Hello"}],"max_tokens":16}';
const answer = () => new Response(body, { headers: { "content-type": "application/json" } });

type Vars = Record<`v${number}`, number> & { requestId: string };

function chainApp(): Hono<{ Variables: Vars }> {
  const app = new Hono<{ Variables: Vars }>();
  app.use("*", async (c, next) => {
    c.set("requestId", c.req.raw.headers.get("x-request-id") ?? "generated");
    await next();
    c.header("x-request-id", c.get("requestId"));
  });
  const stages = Array.from(
    { length: STAGES },
    (_, i) => async (c: { set(k: `v${number}`, v: number): void }, next: () => Promise<void>) => {
      c.set(`v${i}`, i);
      await next();
    },
  );
  // Typed loosely: Hono's overloads stop at ten handlers.
  (app as unknown as { post(path: string, ...h: unknown[]): void }).post(
    "/v1/chat/completions",
    ...stages,
    () => answer(),
  );
  return app;
}

function composedApp(): Hono {
  const app = new Hono();
  const steps = Array.from({ length: STAGES + 1 }, (_, i) => (r: Record<string, unknown>) => {
    r[`v${i}`] = i;
  });
  app.post("/v1/chat/completions", async (c) => {
    const r: Record<string, unknown> = { requestId: c.req.raw.headers.get("x-request-id") ?? "generated" };
    for (const step of steps) step(r);
    const res = answer();
    res.headers.set("x-request-id", r["requestId"] as string);
    return res;
  });
  return app;
}

function bareApp(): Hono {
  const app = new Hono();
  app.post("/v1/chat/completions", () => answer());
  return app;
}

const completion = new TextEncoder().encode(
  JSON.stringify({
    id: "cmpl-1",
    object: "chat.completion",
    model: "m",
    choices: [{ index: 0, message: { role: "assistant", content: "Hi" }, finish_reason: "stop" }],
    usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
  }),
);

/** The real gateway of the checkout at `root`, in process, its pods answering at once. */
async function gatewayApp(
  root: string,
  level: "info" | "silent" = "info",
): Promise<{ fetch(r: Request): Response | Promise<Response> }> {
  const { createGateway } = await import(resolve(root, "src/gateway.ts"));
  const { parseConfig } = await import(resolve(root, "src/config/load.ts"));
  const { createLogger } = await import(resolve(root, "src/log.ts"));
  const yaml = [
    "apiVersion: gateway.inference.dev/v1alpha1",
    "kind: GatewayConfig",
    "logLevel: info",
    "endpoints:",
    '  - { name: pod-0, address: "127.0.0.1:1", models: [m] }',
    '  - { name: pod-1, address: "127.0.0.1:2", models: [m] }',
  ].join("\n");
  const gateway = createGateway({
    config: parseConfig(yaml, "bench.yaml"),
    // The log line is built and serialised as in production, then dropped; with
    // BENCH_LOG=stdout it is written by the logger's own default writer, as in production
    // (run with stdout to /dev/null: the results go to stderr then).
    logger: TO_STDOUT ? createLogger(level) : createLogger(level, () => {}),
    fetch: async () => new Response(completion, { headers: { "content-type": "application/json" } }),
  });
  return gateway;
}

/** BENCH_CONCURRENCY requests at a time (default 1); BENCH_CPU=1 reports process CPU instead of wall time. */
const CONCURRENCY = Number(process.env["BENCH_CONCURRENCY"] ?? 1);
const CPU = process.env["BENCH_CPU"] === "1";

async function run(app: { fetch(r: Request): Response | Promise<Response> }): Promise<number> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const one = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const res = await app.fetch(
        new Request("http://gw/v1/chat/completions", {
          method: "POST",
          headers: { "content-type": "application/json", "content-length": String(reqBody.length) },
          body: reqBody,
        }),
      );
      if (res.status !== 200) throw new Error(`status ${res.status}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, () => one(Math.ceil(N / CONCURRENCY))));
  if (CPU) {
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / N;
  }
  return ((performance.now() - t0) * 1000) / N;
}

const apps: Record<string, { fetch(r: Request): Response | Promise<Response> }> = {
  bare: bareApp(),
  composed: composedApp(),
  "chain-11": chainApp(),
  gateway: await gatewayApp(resolve(import.meta.dirname ?? ".", "../..")),
};
// BENCH_SILENT=1: the same gateway with logLevel silent beside it (what the log line costs).
if (process.env["BENCH_SILENT"] === "1")
  apps["gateway-silent"] = await gatewayApp(resolve(import.meta.dirname ?? ".", "../.."), "silent");
const baseRoot = process.env["BENCH_GATEWAY_ROOT"];
if (baseRoot) apps["gateway-base"] = await gatewayApp(resolve(baseRoot));
const results: Record<string, number[]> = Object.fromEntries(Object.keys(apps).map((k) => [k, []]));
for (const app of Object.values(apps)) await run(app); // warm-up
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 5);
// Every other round runs the apps in reverse order: what one leaves to the collector is not
// always paid by the same next one.
for (let round = 0; round < ROUNDS; round++) {
  const order = Object.entries(apps);
  if (round % 2 === 1) order.reverse();
  for (const [name, app] of order) results[name]!.push(await run(app));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const runtime = typeof Bun !== "undefined" ? `Bun ${Bun.version}` : `Node ${process.version}`;
print(
  `${runtime}, ${N} requests per round, ${CONCURRENCY} at a time, median of ${ROUNDS} rounds (${CPU ? "CPU" : "wall"} µs per request):`,
);
if (baseRoot) {
  // Paired rounds: the same round's gateway against gateway-base (what noise moves both by cancels).
  const diffs = results["gateway"]!.map((g, i) => g - results["gateway-base"]![i]!);
  const lower = diffs.filter((d) => d < 0).length;
  print(
    `  gateway − gateway-base, median of paired rounds: ${median(diffs).toFixed(2)} µs (lower in ${lower} of ${diffs.length})`,
  );
}
for (const [name, xs] of Object.entries(results)) print(`  ${name.padEnd(12)} ${median(xs).toFixed(2)}`);
print(
  `  chain-11 − composed: ${(median(results["chain-11"]!) - median(results["composed"]!)).toFixed(2)} µs`,
);
