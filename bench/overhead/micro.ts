/**
 * Micro-costs of what the gateway does per request, measured in isolation (Bun, or Node
 * through the bundle run.ts makes), to put a µs figure next to each profile hot spot.
 * Each item: best of 7 batches, ns per operation; "per request" multiplies by how often
 * one small chat request does it under the default config (counted from the code).
 *
 *   bun bench/overhead/micro.ts > /dev/null      (results on stderr; stdout is where the
 *                                                 logger writes, as in the benchmark)
 *   ... --out file.md                            (results written to a file as well)
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { Histogram, Registry } from "prom-client";
import * as v from "valibot";
import { systemClock } from "../../src/clock.ts";
import { batchedConsole, createLogger, isoNow } from "../../src/log.ts";
import { CounterFamily } from "../../src/metrics/series-family.ts";
import { acceptsChat } from "../../src/openai/fast-accept.ts";
import { ChatCompletionSchema } from "../../src/openai/schemas.ts";
import {
  answerHeaders,
  downstreamHeaders,
  isGatewayControl,
  upstreamHeaders,
} from "../../src/proxy/headers.ts";
import { LightAbortController } from "../../src/runtime/node-abort.ts";
import { LightHeaders, PAIRS } from "../../src/runtime/node-headers.ts";
import { CLIENT_SIGNAL, NodeRequest } from "../../src/runtime/node-request.ts";
import { hashPrefix } from "../../src/scheduling/prefix/hashes.ts";
import { promptText } from "../../src/scheduling/prefix/prompt.ts";
import { bestNsPerCall } from "./best-of.ts";

const incoming = { method: "POST", rawHeaders: [] as string[] } as unknown as IncomingMessage;
const nodeRequest = () => new NodeRequest(incoming, "http://gw/v1/chat/completions");

/** How often a pattern appears in the request-path sources now (the tree changes under this file). */
function occurrences(re: RegExp, dirs = ["src/stages", "src/proxy"]): number {
  let n = 0;
  for (const dir of dirs) {
    for (const f of readdirSync(dir)) {
      if (f.endsWith(".ts")) n += (readFileSync(`${dir}/${f}`, "utf8").match(re) ?? []).length;
    }
  }
  return n;
}
const C_VAR = occurrences(/\bc\.var\./g);
const ABORT_ANY = occurrences(/AbortSignal\.any\(/g) > 0 ? 1 : 0;

interface Item {
  name: string;
  /** times per small chat request (default config) */
  perRequest: number;
  where: string;
  fn: () => unknown;
}

const noop = () => {};

const small = {
  model: "m",
  messages: [{ role: "user", content: "Hello, how are you today? Please answer briefly." }],
  max_tokens: 16,
};
const words = ["context", "tokens", "prefix", "cache", "pod", "gateway", "stream", "model", "batch", "queue"];
let text = "";
for (let i = 0; text.length < 30_000; i++) text += `${words[i % 10]} ${i} `;
const big = { ...small, messages: [{ role: "user", content: text }] };
const smallJson = JSON.stringify(small);
const bigJson = JSON.stringify(big);

const registry = new Registry();
const hist = new Histogram({
  name: "h",
  help: "h",
  labelNames: ["model_name", "target_model_name"],
  buckets: [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30],
  registers: [registry],
});
const labels = Object.freeze({ model_name: "m", target_model_name: "m" });
const pluginHist = new Histogram({
  name: "p",
  help: "p",
  labelNames: ["plugin_type", "plugin_name"],
  buckets: [0.00001, 0.00002, 0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1],
  registers: [registry],
});

const logger = createLogger("info");
const consoleLogger = createLogger("info", batchedConsole());
const attemptsFamily = new CounterFamily(
  "a_total",
  "a",
  ["model_name", "target_model_name", "pod_name", "fairness_id", "priority"],
  registry,
);
const podLabels = {
  model_name: "m",
  target_model_name: "m",
  pod_name: "mock-1",
  fairness_id: "f",
  priority: "0",
};
const summary = {
  at: Date.now(),
  requestId: "0b8a3c1e-5d4f-4a7b-9c2e-1f3a5b7c9d0e",
  model: "m",
  targetModel: "m",
  rewrite: undefined,
  fairnessId: "default-flow",
  status: 200,
  outcome: "success",
  droppedReason: undefined,
  durationMs: 0.42,
};
const summaryLog = { priority: 0, queueMs: 0, endpoint: "mock-1" };
const record = { ...summary, kind: "chat", pool: "p", log: summaryLog, tenantKey: undefined, stream: false };

const clientHeaders = new Headers({
  host: "127.0.0.1:8080",
  "content-type": "application/json",
  "content-length": "130",
  "user-agent": "wrk",
});
const upstreamResponseHeaders = new Headers({
  "content-type": "application/json",
  "content-length": "291",
  date: new Date().toUTCString(),
});

/**
 * One request's header work on the Node path, start to end: the client's headers from Node's
 * raw pairs, the gets the stages make, the copy for the pod with forward's sets and the flat
 * list undici takes; the pod's answer from raw pairs, its content-type read, the copy for the
 * client with forward's sets and writeHead's record. `make` builds a Headers from raw pairs.
 */
function headerRound(make: (raw: string[]) => Headers): number {
  const client = make(rawClient);
  let n = 0;
  for (const name of STAGE_GETS) if (client.get(name) !== null) n++;
  const up = upstreamHeaders(client, { forwardAuthorization: false });
  up.set("content-type", "application/json");
  up.set("x-request-id", "0f8e3d52-1c1f-4a4e-9d1e-8a0a9a3e2b1c");
  const pairs = (up as unknown as { [PAIRS]?: () => string[] })[PAIRS];
  const flat: string[] = [];
  if (pairs) flat.push(...pairs.call(up));
  else
    up.forEach((v, k) => {
      flat.push(k, v);
    });
  const answer = make(rawAnswer);
  if ((answer.get("content-type") ?? "").includes("text/event-stream")) n++;
  const out = downstreamHeaders(answer);
  out.set("x-gateway-target-model", "m");
  out.set("x-gateway-destination-endpoint-served", "127.0.0.1:8000");
  out.set("x-request-id", "0f8e3d52-1c1f-4a4e-9d1e-8a0a9a3e2b1c");
  const record: Record<string, string> = Object.create(null);
  const outPairs = (out as unknown as { [PAIRS]?: () => string[] })[PAIRS];
  if (outPairs) {
    const f = outPairs.call(out);
    for (let i = 0; i < f.length; i += 2) record[f[i]!] = f[i + 1]!;
  } else
    out.forEach((v, k) => {
      record[k] = v;
    });
  return n + flat.length;
}
const rawClient = [
  "Host",
  "127.0.0.1:8080",
  "Content-Type",
  "application/json",
  "Content-Length",
  "130",
  "User-Agent",
  "wrk",
];
const rawAnswer = [
  "date",
  new Date().toUTCString(),
  "server",
  "uvicorn",
  "content-length",
  "291",
  "content-type",
  "application/json",
];
const STAGE_GETS = [
  "x-request-id",
  "content-type",
  "x-gateway-inference-fairness-id",
  "x-llm-d-inference-fairness-id",
  "x-gateway-inference-objective",
  "x-llm-d-inference-objective",
  "x-gateway-model-name-rewrite",
  "x-llm-d-model-name-rewrite",
  "authorization",
];
const nativeFromRaw = (raw: string[]) => {
  const h = new Headers();
  for (let i = 0; i < raw.length; i += 2) h.append(raw[i]!, raw[i + 1]!);
  return h;
};
const editable = { ok: true };
/** Forward's three sets on the answer's headers. */
function answerSets(out: Headers): Headers {
  out.set("x-gateway-target-model", "m");
  out.set("x-gateway-destination-endpoint-served", "127.0.0.1:8000");
  out.set("x-request-id", "0f8e3d52-1c1f-4a4e-9d1e-8a0a9a3e2b1c");
  return out;
}
const lightFromRaw = (raw: string[]) => LightHeaders.fromRaw(raw) as unknown as Headers;

// Hono's `c.var` getter: `Object.fromEntries(this.#var)` on every access.
const vars = new Map<string, unknown>(
  [
    "requestId",
    "scope",
    "principal",
    "inferenceRequest",
    "targetModel",
    "admission",
    "endpoints",
    "x",
    "y",
  ].map((k) => [k, { k }]),
);

const items: Item[] = [
  {
    name: "JSON.parse, small body (for scale)",
    perRequest: 1,
    where: "src/stages/parse.ts:26",
    fn: () => JSON.parse(smallJson),
  },
  {
    name: "valibot safeParse ChatCompletionSchema, small body",
    perRequest: 0,
    where: "src/stages/parse.ts:37",
    fn: () => v.safeParse(ChatCompletionSchema, small),
  },
  {
    name: "valibot safeParse ChatCompletionSchema, 30 KiB body",
    perRequest: 0,
    where: "src/stages/parse.ts:37",
    fn: () => v.safeParse(ChatCompletionSchema, big),
  },
  {
    name: "acceptsChat (hand-written check before valibot), small body",
    perRequest: 1,
    where: "src/openai/fast-accept.ts",
    fn: () => acceptsChat(small),
  },
  {
    name: "acceptsChat, 30 KiB body",
    perRequest: 0,
    where: "src/openai/fast-accept.ts",
    fn: () => acceptsChat(big),
  },
  {
    name: "JSON.parse, 30 KiB body (for scale)",
    perRequest: 0,
    where: "src/stages/parse.ts:26",
    fn: () => JSON.parse(bigJson),
  },
  {
    name: "promptText + hashPrefix (64-char blocks), 30 KiB body",
    perRequest: 0,
    where: "src/scheduling/framework/context.ts:41",
    fn: () => hashPrefix(promptText(big), { model: "m", blockChars: 64, maxBlocks: 256 }),
  },
  {
    name: "promptText + hashPrefix, small body (no full block)",
    perRequest: 1,
    where: "src/scheduling/framework/context.ts:41",
    fn: () => hashPrefix(promptText(small), { model: "m", blockChars: 64, maxBlocks: 256 }),
  },
  {
    name: "hono c.var access (Object.fromEntries of 9 vars)",
    perRequest: C_VAR,
    where: `\`c.var.x\` in src/stages, src/proxy (${C_VAR} in the code now)`,
    fn: () => Object.fromEntries(vars),
  },
  {
    name: "Map.get (what c.get('x') costs instead)",
    perRequest: 0,
    where: "",
    fn: () => vars.get("scope"),
  },
  {
    name: "prom-client Histogram.observe, 2 labels",
    perRequest: 6,
    where: "scope.ts:48 duration; record.ts:20-31 sizes, tokens, ntpot",
    fn: () => hist.observe(labels, 0.3),
  },
  {
    name: "prom-client Histogram.observe, plugin_type/plugin_name",
    perRequest: 5,
    where: "scheduling/framework/runner.ts:37 (3 scorers, picker, post-pick)",
    fn: () => pluginHist.observe({ plugin_type: "queue-scorer", plugin_name: "queue-scorer" }, 0.00001),
  },
  {
    name: "request line as before: fields object + JSON.stringify, console.log batches",
    perRequest: 0,
    where: "src/log.ts emit (the generic path; the request line took it before the template)",
    fn: () =>
      consoleLogger.info("request", { ...summary, ...summaryLog, tenantKey: undefined, stream: false }),
  },
  {
    name: "logger.request (the line from its template, batched as bytes to stdout)",
    perRequest: 1,
    where: "src/stages/scope.ts finish → src/request-line.ts, src/log-bytes.ts",
    fn: () => logger.request(record),
  },
  {
    name: "new Date().toISOString() (before isoNow)",
    perRequest: 0,
    where: "src/log.ts:25",
    fn: () => new Date().toISOString(),
  },
  {
    name: "isoNow() (log.ts: the second formatted once)",
    perRequest: 1,
    where: "src/log.ts:37",
    fn: () => isoNow(),
  },
  {
    name: "CounterFamily.labels, 5 labels (a label set looked up per request)",
    perRequest: 1,
    where: "src/metrics/scheduler-metrics.ts:120 (scheduling attempts per pod)",
    fn: () => attemptsFamily.labels({ ...podLabels }),
  },
  {
    name: "upstreamHeaders (native copy, unwanted names deleted)",
    perRequest: 1,
    where: "src/proxy/headers.ts:23",
    fn: () => upstreamHeaders(clientHeaders, { forwardAuthorization: false }),
  },
  {
    name: "downstreamHeaders (native copy, hop-by-hop deleted; hosted backends, immutable answers)",
    perRequest: 0,
    where: "src/proxy/headers.ts:36",
    fn: () => downstreamHeaders(upstreamResponseHeaders),
  },
  {
    // Seventh pass: the pod answer's Headers (the wire client builds one per answer, as
    // below) made into the client's: a copy with the hop-by-hop names deleted, then three
    // sets, against the same edits in place (answerHeaders). The pod's Headers is built in
    // both, so the difference is the copy.
    name: "the answer's headers as before: pod Headers built, copied (downstreamHeaders), 3 sets",
    perRequest: 0,
    where: "src/stages/forward.ts respond (before the seventh pass)",
    fn: () => answerSets(downstreamHeaders(nativeFromRaw(rawAnswer))),
  },
  {
    name: "the answer's headers now: pod Headers built, edited in place (answerHeaders), 3 sets",
    perRequest: 1,
    where: "src/stages/forward.ts respond, src/proxy/headers.ts answerHeaders",
    fn: () => answerSets(answerHeaders(nativeFromRaw(rawAnswer), editable)),
  },
  {
    // Node before the fifth pass (and Bun's Headers, for scale): platform Headers throughout.
    name: "one request's header work, platform Headers (Node path before the fifth pass)",
    perRequest: 0,
    where:
      "node-request.ts, parse.ts, headers.ts, forward.ts, undici-fetch.ts, node-dispatch.ts, node-respond.ts",
    fn: () => headerRound(nativeFromRaw),
  },
  {
    name: "one request's header work, LightHeaders (Node path, fifth pass)",
    perRequest: 0,
    where: "src/runtime/node-headers.ts",
    fn: () => headerRound(lightFromRaw),
  },
  {
    // Fourth pass, measured and not kept: Bun's fetch takes a Headers no slower than a plain
    // record (in-process fetch A/B: within ±5 µs noise either way), so the JS saved here
    // does not reach the request.
    name: "upstream headers as a plain record (forEach, unwanted names skipped)",
    perRequest: 0,
    where: "src/proxy/headers.ts (alternative to upstreamHeaders)",
    fn: () => {
      const out: Record<string, string> = {};
      clientHeaders.forEach((value, key) => {
        if (key !== "host" && key !== "content-length" && !isGatewayControl(key)) out[key] = value;
      });
      out["accept-encoding"] = "identity";
      return out;
    },
  },
  {
    // Counted per small chat request under the default profile (fourth pass): 4 in the
    // stages (scope open and end, usable endpoints, the answer's end) and 14 in the
    // scheduler's plugin timing (one reading per plugin call and hook run).
    name: "clock read (systemClock.now: performance.now)",
    perRequest: 18,
    where: "src/clock.ts; src/scheduling/framework/runner.ts, index.ts",
    fn: () => systemClock.now(),
  },
  {
    name: "2 × new AbortController + AbortSignal.any([client, own])",
    perRequest: ABORT_ANY,
    where: "src/stages/evictable.ts, spill.ts (attempt.ts links the client with a listener)",
    fn: () => {
      const a = new AbortController();
      const b = new AbortController();
      return AbortSignal.any([a.signal, b.signal]);
    },
  },
  {
    name: "AbortController, its signal, a listener (attempt's pod call; Bun, and Node before node-abort.ts)",
    perRequest: 0,
    where: "src/proxy/attempt.ts",
    fn: () => {
      const c = new AbortController();
      c.signal.addEventListener("abort", noop);
      return c;
    },
  },
  {
    name: "LightAbortController, a listener (attempt's pod call on Node: the Node fetch offers it)",
    perRequest: 0,
    where: "src/runtime/node-abort.ts",
    fn: () => {
      const c = new LightAbortController();
      c.signal.addEventListener("abort", noop);
      return c;
    },
  },
  {
    name: "the client's signal on Node as before: NodeRequest's platform signal + attempt's listener",
    perRequest: 0,
    where: "src/runtime/node-request.ts signal (read by the Exchange, admit, attempt before the fourth pass)",
    fn: () => nodeRequest().signal.addEventListener("abort", noop),
  },
  {
    name: "the client's signal on Node now: NodeRequest's light signal + attempt's listener",
    perRequest: 1,
    where: "src/stages/exchange.ts clientSignal → src/runtime/node-request.ts CLIENT_SIGNAL",
    fn: () => nodeRequest()[CLIENT_SIGNAL]().addEventListener("abort", noop),
  },
  {
    name: "setTimeout + clearTimeout (response timer)",
    perRequest: 1,
    where: "src/proxy/attempt.ts:24,41",
    fn: () => clearTimeout(setTimeout(() => {}, 600_000)),
  },
  {
    name: "setTimeout + clearTimeout + Promise.race (idle timer per relay read)",
    perRequest: 2,
    where: "src/proxy/relay.ts:52-56 (2 reads for a JSON answer)",
    fn: () => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("idle")), 120_000);
      });
      const p = Promise.race([Promise.resolve(1), timeout]).finally(() => clearTimeout(timer));
      timeout.catch(() => {});
      return p;
    },
  },
  {
    name: "crypto.randomUUID()",
    perRequest: 1,
    where: "src/stages/request-id.ts:9",
    fn: () => crypto.randomUUID(),
  },
];

const runtime = typeof Bun !== "undefined" ? `bun ${Bun.version}` : `node ${process.version}`;
const rows: string[] = [];
let total = 0;
for (const it of items) {
  const ns = bestNsPerCall(it.fn);
  const perReq = (ns * it.perRequest) / 1000;
  total += perReq;
  rows.push(
    `| ${it.name} | ${(ns / 1000).toFixed(2)} | ${it.perRequest || "-"} | ${it.perRequest ? perReq.toFixed(1) : "-"} | ${it.where} |`,
  );
}
const table = [
  `Micro-costs (${runtime}; best of 7 batches; stdout to /dev/null):`,
  "",
  "| operation | µs/op | × per small request | µs/request | where |",
  "|---|---:|---:|---:|---|",
  ...rows,
  `| **sum of the above** | | | **${total.toFixed(1)}** | |`,
  "",
].join("\n");
console.error(table);
const outAt = process.argv.indexOf("--out");
if (outAt !== -1 && process.argv[outAt + 1]) writeFileSync(process.argv[outAt + 1]!, table);
