/**
 * Run under Node by node-headers.test.ts: LightHeaders (src/runtime/node-headers.ts) against
 * Node's own Headers, operation by operation, the proxy's copies of each, and the whole
 * gateway on the Node entry's pieces in front of a plain node:http pod, counting the
 * platform Headers' method calls per request. Prints what it saw as one JSON line.
 */
import { createServer } from "node:http";
import { request as httpRequest } from "node:http";
import { seededRandom } from "../../src/clock.ts";
import { parseConfig } from "../../src/config/load.ts";
import { createGateway } from "../../src/gateway.ts";
import { createLogger } from "../../src/log.ts";
import { downstreamHeaders, upstreamHeaders } from "../../src/proxy/headers.ts";
import { LightHeaders, PAIRS } from "../../src/runtime/node-headers.ts";
import { nodeDirectStreams } from "../../src/runtime/node-relay.ts";
import { serveNode } from "../../src/runtime/serve-node.ts";
import { undiciFetch } from "../../src/runtime/undici-fetch.ts";

const out: Record<string, unknown> = {};
const NativeHeaders = globalThis.Headers;

/** What a Headers shows: every entry, each name's get/has, getSetCookie; or the error's kind. */
function view(h: Headers): unknown {
  const names = ["content-type", "cookie", "set-cookie", "x-a", "x-b", "connection", "absent"];
  return {
    entries: [...h],
    keys: [...h.keys()],
    values: [...h.values()],
    each: (() => {
      const seen: string[][] = [];
      h.forEach((v, k, parent) => seen.push([k, v, String(parent === h)]));
      return seen;
    })(),
    get: names.map((n) => h.get(n)),
    getUpper: names.map((n) => h.get(n.toUpperCase())),
    has: names.map((n) => h.has(n)),
    cookies: h.getSetCookie(),
  };
}

function attempt(fn: () => void): string {
  try {
    fn();
    return "ok";
  } catch (err) {
    return (err as Error).constructor.name;
  }
}

// 1. A seeded run of operations applied to both, compared after each step.
const rand = seededRandom(7);
const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const NAMES = ["Content-Type", "cookie", "Set-Cookie", "x-a", "X-B", "connection", "bad name", "é", ""];
const VALUES = ["v", " padded\t", "a=1", "text/event-stream", "x-b, close", "line\nbreak", "nul\0", "€uro", "", "café"];
let mismatches = 0;
const firstMismatch: unknown[] = [];
for (let round = 0; round < 200; round++) {
  const native = new NativeHeaders();
  const light = new LightHeaders() as unknown as Headers;
  for (let step = 0; step < 12; step++) {
    const op = pick(["append", "append", "set", "delete", "get", "has"] as const);
    const name = pick(NAMES);
    const value = pick(VALUES);
    const run = (h: Headers) =>
      attempt(() => {
        if (op === "append" || op === "set") h[op](name, value);
        else h[op](name);
      });
    const a = run(native);
    const b = run(light);
    const va = JSON.stringify([a, view(native)]);
    const vb = JSON.stringify([b, view(light)]);
    if (va !== vb) {
      mismatches++;
      if (firstMismatch.length === 0) firstMismatch.push({ op, name, value, native: va, light: vb });
    }
  }
}
out["differential"] = { mismatches, firstMismatch };

// 1b. Construction from each kind of init (and what the platform refuses).
const inits: unknown[] = [
  undefined,
  null,
  5,
  "x",
  { "X-R": " 1 ", y: "2" },
  [["X-L", "1"], ["x-l", "2"], ["Set-Cookie", "a"], ["set-cookie", "b"]],
  [["only-name"]],
  [["bad name", "v"]],
  { ok: "line\nbreak" },
  new NativeHeaders({ b: "2", cookie: "c=1" }),
  new Map([["m", "1"]]),
];
let ctorMismatches = 0;
for (const init of inits) {
  const build = (make: () => Headers) => {
    try {
      return JSON.stringify([...make()]);
    } catch (err) {
      return (err as Error).constructor.name;
    }
  };
  const a = build(() => new NativeHeaders(init as HeadersInit));
  const b = build(() => new LightHeaders(init as Iterable<[string, string]>) as unknown as Headers);
  if (a !== b) {
    ctorMismatches++;
    console.error("constructor mismatch", String(init), a, b);
  }
}
out["constructors"] = { mismatches: ctorMismatches, tried: inits.length };

// 2. Constructed from raw pairs, records and pair lists, as Node's and built from each other.
const raw = ["Host", "gw", "Cookie", "a=1", "cookie", "b=2", "X-A", " 1 ", "x-a", "2", "Set-Cookie", "s=1", "set-cookie", "t=2"];
const fromRaw = LightHeaders.fromRaw(raw) as unknown as Headers;
const nativeRaw = new NativeHeaders();
for (let i = 0; i < raw.length; i += 2) nativeRaw.append(raw[i]!, raw[i + 1]!);
out["fromRaw"] = {
  same: JSON.stringify(view(fromRaw)) === JSON.stringify(view(nativeRaw)),
  pairs: (fromRaw as unknown as LightHeaders)[PAIRS](),
  platformCopy: JSON.stringify([...new NativeHeaders(fromRaw)]) === JSON.stringify([...nativeRaw]),
  instance: fromRaw instanceof NativeHeaders,
  responseFrom: await new Response("x", { headers: fromRaw }).headers.get("cookie"),
  badRaw: attempt(() => LightHeaders.fromRaw(["x", "a\nb"])),
  record: [...(new LightHeaders({ "X-R": "1", y: "2" }) as unknown as Headers)],
  list: [...(new LightHeaders([["X-L", "1"]]) as unknown as Headers)],
};

// 3. The proxy's copies: the same entries from a LightHeaders as from Node's Headers.
const client: [string, string][] = [
  ["Host", "gw"],
  ["Content-Type", "application/json"],
  ["Content-Length", "12"],
  ["Authorization", "Bearer k"],
  ["X-Api-Key", "k2"],
  ["Connection", "keep-alive, X-Hop"],
  ["X-Hop", "dropped"],
  ["Keep-Alive", "timeout=5"],
  ["X-Gateway-Model-Name-Rewrite", "m2"],
  ["x-llm-d-destination", "pod"],
  ["X-Slo-Ttft-Ms", "100"],
  ["Cookie", "a=1"],
  ["cookie", "b=2"],
  ["X-Custom", "kept"],
  ["Accept-Encoding", "gzip"],
];
const flat = client.flat();
const up = (auth: boolean) => [
  [...upstreamHeaders(LightHeaders.fromRaw(flat) as unknown as Headers, { forwardAuthorization: auth })],
  [...upstreamHeaders(new NativeHeaders(client), { forwardAuthorization: auth })],
];
const answer: [string, string][] = [
  ["Content-Type", "text/event-stream"],
  ["Transfer-Encoding", "chunked"],
  ["Connection", "close, X-Hop"],
  ["X-Hop", "x"],
  ["Set-Cookie", "s=1"],
  ["Set-Cookie", "t=2"],
  ["Date", "today"],
  ["Content-Encoding", "gzip"],
];
const downLight = downstreamHeaders(LightHeaders.fromRaw(answer.flat()) as unknown as Headers);
const downNative = downstreamHeaders(new NativeHeaders(answer));
out["copies"] = {
  upstream: up(false),
  upstreamAuth: up(true),
  downstream: [[...downLight], [...downNative]],
  lightStaysLight: downLight instanceof LightHeaders,
};

// 4. The whole gateway on the Node entry, a plain node:http pod: the platform Headers' methods
// called per request (the pod and client are node:http, so every call is the gateway's).
const counted = ["append", "set", "get", "has", "delete", "forEach", "entries", "keys", "values"] as const;
let nativeCalls = 0;
for (const m of counted) {
  const original = NativeHeaders.prototype[m] as (...args: unknown[]) => unknown;
  (NativeHeaders.prototype as unknown as Record<string, unknown>)[m] = function (this: Headers, ...args: unknown[]) {
    nativeCalls++;
    return original.apply(this, args);
  };
}
const podHeaders: Record<string, string | string[] | undefined>[] = [];
let podGets = 0;
const pod = createServer((req, res) => {
  if (req.method === "POST") podHeaders.push(req.headers);
  else podGets++;
  req.resume();
  req.on("end", () => {
    const stream = req.url === "/v1/chat/completions" && req.headers["x-test-stream"] === "1";
    if (stream) {
      res.writeHead(200, { "content-type": "text/event-stream", "set-cookie": ["s=1", "t=2"], "x-pod": "p" });
      res.write(`data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", model: "m", choices: [{ index: 0, delta: { content: "hi" } }] })}\n\n`);
      res.write(`data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", model: "m", choices: [], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } })}\n\n`);
      res.end("data: [DONE]\n\n");
    } else {
      const body = JSON.stringify({ id: "c", object: "chat.completion", model: "m", choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } });
      res.writeHead(200, { "content-type": "application/json", "set-cookie": ["s=1", "t=2"], "x-pod": "p", connection: "keep-alive" });
      res.end(body);
    }
  });
});
await new Promise<void>((r) => pod.listen(0, "127.0.0.1", r));
const podPort = (pod.address() as { port: number }).port;
const config = parseConfig(
  JSON.stringify({
    apiVersion: "gateway.inference.dev/v1alpha1",
    kind: "GatewayConfig",
    // The serving pod's address on every answer (off by default): this test reads it.
    endpointServedHeader: true,
    logLevel: "info",
    endpoints: [{ name: "pod-0", address: `127.0.0.1:${podPort}`, models: ["m"] }],
    // One scrape and one models query at start, then none while the requests are counted.
    dataLayer: { scrapeIntervalMs: 600_000, modelsRefreshMs: 600_000 },
  }),
  "node-headers.yaml",
);
const fetchFn = undiciFetch();
const gateway = createGateway({
  config,
  logger: createLogger("info", () => {}),
  random: seededRandom(1),
  fetch: fetchFn,
  directStreams: nodeDirectStreams,
});
gateway.start();
const server = await serveNode({ fetch: gateway.fetch, port: 0, hostname: "127.0.0.1" });
for (let i = 0; i < 1000 && podGets < 2; i++) await new Promise((r) => setTimeout(r, 5));

/** One POST by node:http: status, the answer's raw header pairs and its body. */
function post(stream: boolean): Promise<{ status: number; raw: string[]; body: string }> {
  const body = JSON.stringify({ model: "m", messages: [{ role: "user", content: "hello" }], stream });
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port: server.port,
        path: "/v1/chat/completions",
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-test-stream": stream ? "1" : "0",
          "x-gateway-model-name-rewrite": "",
          cookie: "a=1",
          connection: "keep-alive, x-hop",
          "x-hop": "dropped",
          "x-custom": "kept",
        },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on("data", (d: Buffer) => parts.push(d));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, raw: res.rawHeaders, body: Buffer.concat(parts).toString() }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
const calls: number[] = [];
const answers: { status: number; headers: string[] }[] = [];
for (const stream of [false, true]) {
  const before = nativeCalls;
  const res = await post(stream);
  calls.push(nativeCalls - before);
  // Names and values as they went out, less the ones that change per request or run.
  const names: string[] = [];
  for (let i = 0; i < res.raw.length; i += 2) {
    const n = res.raw[i]!.toLowerCase();
    if (n === "date" || n === "x-request-id" || n === "x-gateway-destination-endpoint-served") names.push(n);
    else names.push(`${n}: ${res.raw[i + 1]}`);
  }
  answers.push({ status: res.status, headers: names });
}
const sent = podHeaders.map((h) => ({
  custom: h["x-custom"],
  hop: h["x-hop"],
  cookie: h["cookie"],
  control: h["x-gateway-model-name-rewrite"],
  accept: h["accept-encoding"],
  type: h["content-type"],
  id: typeof h["x-request-id"] === "string",
}));
out["gateway"] = { nativeCalls: calls, answers, sent };

console.log(JSON.stringify(out));
await gateway.stop();
await server.close();
await fetchFn.close();
pod.close();
