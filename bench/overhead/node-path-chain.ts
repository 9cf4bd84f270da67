/**
 * The gateway's per-request JS in process, with the objects the Node entry hands the core
 * (issue 19, eighth pass). hono-chain.ts feeds the gateway platform `Request`s and answers
 * its pod calls with platform `Response`s: under Node those are undici's JS classes, with a
 * web stream (made transferable), webidl checks and, through attempt, a platform
 * AbortSignal each, which is most of what hono-chain reads under Node (~180 µs a request
 * against ~20 here). The Node entry builds none of them (docs/runtimes-node.md): the client's
 * request is a `NodeRequest` (headers a `LightHeaders` from the raw pairs, the body read
 * whole, a light "client gone" signal), the light controller is offered to attempt
 * (`offerLightAborts`), the pod's answer is the dispatcher's `bufferedResponse`, and the
 * answer is read through node-server's light `Response` (installed as the global one), as
 * `writeResponse` reads it. This harness does the same without sockets, so the figure is the
 * core's own work on the runtime's objects: the same under Bun and Node when the core's JS
 * costs V8 what it costs JSC.
 *
 * Run: `node --import tsx bench/overhead/node-path-chain.ts` or `bun bench/overhead/node-path-chain.ts`.
 * tsx wraps every function the core makes per request in its `__name` helper; a bundle
 * (`bun build --target=node bench/overhead/node-path-chain.ts --outfile /tmp/npc.mjs`, then
 * `node /tmp/npc.mjs`) runs what the benchmark's gw-node runs. With BENCH_GATEWAY_ROOT=<another
 * checkout> (not bundled: imported at run time) that tree's gateway runs beside it, in
 * alternating order. Prints process CPU µs per request (median and best of BENCH_ROUNDS,
 * default 7, of BENCH_N requests, default 50,000), BENCH_CONCURRENCY at a time (default 1),
 * and with a base the median paired difference. BENCH_ANSWER_CHARS makes the pod's answer longer.
 */
import { resolve } from "node:path";
import { getRequestListener } from "@hono/node-server";
import { parseConfig } from "../../src/config/load.ts";
import { createGateway } from "../../src/gateway.ts";
import { createLogger } from "../../src/log.ts";
import { LightAbortSignal, offerLightAborts } from "../../src/runtime/node-abort.ts";
import { LightHeaders } from "../../src/runtime/node-headers.ts";
import { CLIENT_SIGNAL } from "../../src/runtime/node-request.ts";
import { responseCacheKey } from "../../src/runtime/node-respond.ts";
import { bufferedResponse } from "../../src/runtime/node-upstream-response.ts";
import { alternatingRounds, perRequest } from "../lib/in-process.ts";

// Under Node, node-server's light Response becomes the global one (as serve-node's listener makes it).
getRequestListener(() => new Response(""));
const N = Number(process.env["BENCH_N"] ?? 50_000);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 7);
const CONCURRENCY = Number(process.env["BENCH_CONCURRENCY"] ?? 1);
/** BENCH_ANSWER_CHARS: the completion's text, that many characters of prose (default "Hi", the overhead pods' size). */
const ANSWER_CHARS = Number(process.env["BENCH_ANSWER_CHARS"] ?? 0);
const ANSWER_TEXT = ANSWER_CHARS
  ? "The quick brown fox jumps over the lazy dog. "
      .repeat(Math.ceil(ANSWER_CHARS / 45))
      .slice(0, ANSWER_CHARS)
  : "Hi";
const enc = new TextEncoder();
const reqBody = enc.encode('{"model":"m","messages":[{"role":"user","content":"Hello"}],"max_tokens":16}');
const completion = enc.encode(
  JSON.stringify({
    id: "cmpl-1",
    object: "chat.completion",
    model: "m",
    choices: [{ index: 0, message: { role: "assistant", content: ANSWER_TEXT }, finish_reason: "stop" }],
    usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
  }),
);
const rawHeaders = [
  "Host",
  "gw",
  "Content-Type",
  "application/json",
  "Content-Length",
  String(reqBody.length),
];
const answerRaw = ["content-type", "application/json", "content-length", String(completion.length)];

/** What NodeRequest offers the core for a small POST whose body is in (src/runtime/node-request.ts). */
class BenchRequest {
  readonly method = "POST";
  readonly url = "http://gw/v1/chat/completions";
  bodyUsed = false;
  #headers: Headers | undefined;
  #light: LightAbortSignal | undefined;
  get headers(): Headers {
    this.#headers ??= LightHeaders.fromRaw(rawHeaders) as unknown as Headers;
    return this.#headers;
  }
  get signal(): AbortSignal {
    return new AbortController().signal;
  }
  [CLIENT_SIGNAL](): LightAbortSignal {
    this.#light ??= new LightAbortSignal();
    return this.#light;
  }
  arrayBuffer(): Promise<ArrayBuffer> {
    this.bodyUsed = true;
    return Promise.resolve(reqBody.slice().buffer);
  }
}
Object.setPrototypeOf(BenchRequest.prototype, Request.prototype);

type Gateway = { fetch(r: Request): Response | Promise<Response> };
type Modules = {
  createGateway: typeof createGateway;
  parseConfig: typeof parseConfig;
  createLogger: typeof createLogger;
};

function gatewayOf(m: Modules): Gateway {
  const yaml = [
    "apiVersion: gateway.inference.dev/v1alpha1",
    "kind: GatewayConfig",
    "logLevel: info",
    "endpoints:",
    '  - { name: pod-0, address: "127.0.0.1:1", models: [m] }',
    '  - { name: pod-1, address: "127.0.0.1:2", models: [m] }',
  ].join("\n");
  const fetch = offerLightAborts(async () =>
    bufferedResponse(completion.slice(), 200, LightHeaders.fromRaw(answerRaw) as unknown as Headers),
  );
  return m.createGateway({
    config: m.parseConfig(yaml, "bench.yaml"),
    logger: m.createLogger("info", () => {}),
    fetch,
  });
}

const CACHE = responseCacheKey();
/** The answer's body as the Node writer takes it: node-server's cached [status, body, init], else read. */
async function consume(res: Response): Promise<void> {
  if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
  const cached = CACHE && (res as unknown as Record<symbol, [number, unknown, unknown] | undefined>)[CACHE];
  if (!cached) await res.arrayBuffer();
}

function run(app: Gateway): Promise<number> {
  return perRequest(
    async () => consume(await app.fetch(new BenchRequest() as unknown as Request)),
    N,
    CONCURRENCY,
  );
}

const apps: Record<string, Gateway> = { gateway: gatewayOf({ createGateway, parseConfig, createLogger }) };
const baseRoot = process.env["BENCH_GATEWAY_ROOT"];
if (baseRoot)
  apps["gateway-base"] = gatewayOf({
    createGateway: (await import(resolve(baseRoot, "src/gateway.ts"))).createGateway,
    parseConfig: (await import(resolve(baseRoot, "src/config/load.ts"))).parseConfig,
    createLogger: (await import(resolve(baseRoot, "src/log.ts"))).createLogger,
  });
const results = await alternatingRounds(apps, ROUNDS, run);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const runtime = typeof Bun !== "undefined" ? `Bun ${Bun.version}` : `Node ${process.version}`;
console.log(
  `${runtime}, the Node entry's objects, ${N} requests per round, ${CONCURRENCY} at a time, ${ROUNDS} rounds (process CPU µs per request):`,
);
for (const [name, xs] of Object.entries(results))
  console.log(`  ${name.padEnd(12)} median ${median(xs).toFixed(2)}  best ${Math.min(...xs).toFixed(2)}`);
if (baseRoot) {
  const diffs = results["gateway"]!.map((g, i) => g - results["gateway-base"]![i]!);
  console.log(
    `  gateway − gateway-base, median of paired rounds: ${median(diffs).toFixed(2)} µs (lower in ${diffs.filter((d) => d < 0).length} of ${diffs.length})`,
  );
}
process.exit(0);
