/**
 * What a large request body costs the gateway, step by step, in isolation (Bun or Node): the
 * decode and parse every request pays, and what the pod's copy costs when the body changes
 * (a renamed model, a stream asked for usage): re-serialising the parsed body, as before,
 * against splicing into the client's bytes (spliceRequestBody). Best of 7 batches, µs per
 * operation, for a 30 KiB chat body like the overhead benchmark's.
 *
 *   bun bench/overhead/body-micro.ts        node --experimental-strip-types is not enough
 *                                           (imports .ts): bundle it with bun build first.
 *
 * With `--chain` (eighth pass) it times whole requests instead, in process: the real gateway
 * (createGateway, two endpoints, the default profile, metrics and the request log on, written
 * to a sink; the fetch seam answers at once) against a bare handler that reads, decodes,
 * parses and "forwards" the same bytes, each with the 30 KiB body and with the small one.
 * What the gateway pays for a large body beyond what the bare handler pays for it is
 * (gw30k − gwSmall) − (bare30k − bareSmall). CPU µs per request (process.cpuUsage, the
 * collector's threads included), BENCH_CONCURRENCY at a time (default 32), median of
 * BENCH_ROUNDS rounds of BENCH_N requests; BENCH_GATEWAY_ROOT=<other checkout> adds its
 * gateway beside this one.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { acceptsChat } from "../../src/openai/fast-accept.ts";
import { spliceRequestBody } from "../../src/proxy/model-field.ts";
import { DEFAULT_BLOCK_CHARS, DEFAULT_MAX_BLOCKS, hashPrefix } from "../../src/scheduling/prefix/hashes.ts";
import { PrefixIndex } from "../../src/scheduling/prefix/prefix-index.ts";
import { promptParts } from "../../src/scheduling/prefix/prompt.ts";
import { completionAnswer, type FetchApp, perRequest, postChat } from "../lib/in-process.ts";
import { bestNsPerCall } from "./best-of.ts";
import { bigBody, SMALL } from "./bodies.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const body = bigBody(30 * 1024);
const bytes = encoder.encode(JSON.stringify(body));
const parsed = JSON.parse(decoder.decode(bytes)) as Record<string, unknown>;
const USAGE = encoder.encode('{"stream_options":{"include_usage":true},');
const blob = new Blob([bytes]);

// One request's steps, as the gateway runs them for the benchmark's body (the same prompt every
// time: the index already holds it on the endpoint the pick goes to, 4 endpoints).
const WINDOW = DEFAULT_BLOCK_CHARS * DEFAULT_MAX_BLOCKS;
const hashOpts = { model: "m", blockChars: DEFAULT_BLOCK_CHARS, maxBlocks: DEFAULT_MAX_BLOCKS };
const parts = promptParts(parsed, "chat", WINDOW).parts;
// The same prompt from two parses (equal strings, not the same ones), as requests bring it.
const twins = [parts, promptParts(JSON.parse(decoder.decode(bytes)), "chat", WINDOW).parts];
let twin = 0;
const content = body.messages[0]!.content;
const other = promptParts(
  { ...body, messages: [{ role: "user", content: `X${content.slice(1)}` }] },
  "chat",
  WINDOW,
).parts;
const keys = hashPrefix(parts, hashOpts).keys;
const index = new PrefixIndex();
for (const ep of ["a", "b", "c", "d"]) index.record(ep, keys.slice(0, 8));
index.record("a", keys);
for (let i = 0; i < 100; i++) index.prompts.record(keys);
/** A pod request's head, as the wire client writes it before the body (bun-wire.ts). */
const HEAD = encoder.encode(
  `POST /v1/chat/completions HTTP/1.1\r\ncontent-type: application/json\r\nx-request-id: 0123456789abcdef0123\r\nhost: 127.0.0.1:8001\r\ncontent-length: ${bytes.byteLength}\r\n\r\n`,
);
const SCRATCH = new Uint8Array(64 * 1024);
/** Socket chunks of the body as Node hands them (64 KiB reads, here 16 KiB pieces of one buffer). */
const socket = Buffer.from(bytes);
const chunks = [socket.subarray(0, 16384), socket.subarray(16384)];

const items: [string, () => unknown][] = [
  [
    "step: read body, Node chunks concatenated (node-request readWhole)",
    () => {
      const out = new Uint8Array(socket.length);
      let at = 0;
      for (const c of chunks) {
        out.set(c, at);
        at += c.byteLength;
      }
      return out.buffer;
    },
  ],
  ["step: validate (acceptsChat)", () => acceptsChat(parsed)],
  ["step: prompt parts (promptParts, 16 KiB window)", () => promptParts(parsed, "chat", WINDOW)],
  [
    "step: hash 256 blocks, the same prompt again (hashPrefix)",
    () => hashPrefix(twins[twin++ & 1]!, hashOpts),
  ],
  [
    "step: hash 256 blocks, two prompts in turn (no reuse)",
    () => hashPrefix(twin++ & 1 ? parts : other, hashOpts),
  ],
  ["step: match in the index (matchLengths)", () => index.matchLengths(keys)],
  ["step: distinctive block (prompts.distinctive)", () => index.prompts.distinctive(keys)],
  ["step: record, prompt already held (record)", () => index.record("a", keys)],
  ["step: prompt statistics (prompts.record)", () => index.prompts.record(keys)],
  ["decode (TextDecoder)", () => decoder.decode(bytes)],
  ["JSON.parse of the decoded string", () => JSON.parse(decoder.decode(bytes))],
  [
    "renamed, re-serialised: JSON.stringify + encode",
    () => encoder.encode(JSON.stringify({ ...parsed, model: "n" })),
  ],
  ["renamed, spliced (spliceRequestBody)", () => spliceRequestBody(bytes, "n", undefined)],
  ["renamed + usage, spliced", () => spliceRequestBody(bytes, "n", USAGE)],
  ["usage only, spliced (prefix, one copy)", () => spliceRequestBody(bytes, undefined, USAGE)],
  ["copy of the bytes (slice)", () => bytes.slice()],
  [
    "wire write's buffer: head + body into a fresh buffer",
    () => {
      const out = Buffer.allocUnsafe(HEAD.byteLength + bytes.byteLength);
      out.set(HEAD, 0);
      out.set(bytes, HEAD.byteLength);
      return out;
    },
  ],
  [
    "wire write's buffer: head + body into the reused scratch (now)",
    () => {
      SCRATCH.set(HEAD, 0);
      SCRATCH.set(bytes, HEAD.byteLength);
      return SCRATCH;
    },
  ],
];
if (typeof Bun !== "undefined") {
  items.push(["Blob.bytes() (a copy)", () => blob.bytes()]);
  // Parsing the bytes without a decoded string (seventh pass: measured end to end, not kept).
  const jsonl = (Bun as unknown as { JSONL: { parseChunk(b: Uint8Array): unknown } }).JSONL;
  items.push(["Bun.JSONL.parseChunk of the bytes (no decoded string)", () => jsonl.parseChunk(bytes)]);
}

type App = FetchApp;
const answer = completionAnswer;

/**
 * An EndpointPickerConfig for a variant: `random` (the random picker alone), `noprefix` (the
 * default profile without the prefix scorer), `prefix` (the prefix scorer alone); none otherwise.
 */
function profileOf(variant: string | undefined): string[] {
  const plugins =
    variant === "random"
      ? ["random-picker"]
      : variant === "noprefix"
        ? ["queue-scorer", "kv-cache-utilization-scorer", "max-score-picker"]
        : variant === "prefix"
          ? ["prefix-cache-scorer", "max-score-picker"]
          : [];
  if (plugins.length === 0) return [];
  return [
    "---",
    "apiVersion: inference.networking.x-k8s.io/v1alpha1",
    "kind: EndpointPickerConfig",
    "plugins:",
    ...plugins.map(
      (p) => `  - { type: ${p}${p.endsWith("picker") ? ", parameters: { maxNumOfEndpoints: 3 }" : ""} }`,
    ),
    "schedulingProfiles:",
    "  - name: default",
    "    plugins:",
    ...plugins.map((p) => `      - pluginRef: ${p}`),
  ];
}

/** The real gateway of the checkout at `root`, in process, its pods answering at once. */
async function gatewayApp(root: string, variant?: string): Promise<App> {
  const { createGateway } = await import(resolve(root, "src/gateway.ts"));
  const { parseConfig } = await import(resolve(root, "src/config/load.ts"));
  const { createLogger } = await import(resolve(root, "src/log.ts"));
  const yaml = [
    "apiVersion: gateway.inference.dev/v1alpha1",
    "kind: GatewayConfig",
    `logLevel: ${variant === "silent" ? "silent" : "info"}`,
    "endpoints:",
    '  - { name: pod-0, address: "127.0.0.1:1", models: [m] }',
    '  - { name: pod-1, address: "127.0.0.1:2", models: [m] }',
    ...profileOf(variant),
  ].join("\n");
  return createGateway({
    config: parseConfig(yaml, "bench.yaml"),
    logger: createLogger("info", () => {}),
    fetch: async () => answer(),
  });
}

/** The floor: read the body whole, decode, parse, check the model, "forward" the bytes. */
const bareApp: App = {
  async fetch(req) {
    const body = await req.arrayBuffer();
    const parsed = JSON.parse(decoder.decode(body)) as { model?: unknown };
    if (typeof parsed.model !== "string") return new Response("model missing", { status: 400 });
    const res = await (async (_b: ArrayBuffer) => answer())(body);
    return new Response(new Uint8Array(await res.arrayBuffer()), {
      status: res.status,
      headers: res.headers,
    });
  },
};

const RING = new Uint8Array(4 << 20);
const PIECE = new Uint8Array(30 * 1024).fill(97);
let ringAt = 0;
/** `app` with 5 copies of 30 KiB into the next stretch of a 4 MiB ring before each request. */
function touching(app: App): App {
  return {
    fetch(r) {
      for (let i = 0; i < 5; i++) {
        if (ringAt + PIECE.length > RING.length) ringAt = 0;
        RING.set(PIECE, ringAt);
        ringAt += PIECE.length;
      }
      return app.fetch(r);
    },
  };
}

/** Minor page faults of this process so far (Linux; 0 elsewhere). */
function minorFaults(): number {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[7]);
  } catch {
    return 0;
  }
}
const faults = new Map<string, number[]>();

/** CPU µs per request of `app` over `n` requests of `payload`, `concurrency` at a time. */
function cpuPerRequest(app: App, payload: string, n: number, concurrency: number): Promise<number> {
  return perRequest(() => postChat(app, payload), n, concurrency);
}

/** `--chain`: the in-process differential described in the module comment. */
async function chainDifferential(): Promise<void> {
  const n = Number(process.env["BENCH_N"] ?? 20_000);
  const rounds = Number(process.env["BENCH_ROUNDS"] ?? 7);
  const concurrency = Number(process.env["BENCH_CONCURRENCY"] ?? 32);
  const large = JSON.stringify(body);
  const small = JSON.stringify(SMALL);
  const padded = JSON.stringify({ ...SMALL, x_pad: body.messages[0]!.content });
  const apps: Record<string, App> = {
    gateway: await gatewayApp(resolve(import.meta.dirname ?? ".", "../..")),
    bare: bareApp,
  };
  // BENCH_VARIANTS=random,silent: the same gateway with the random picker (no prefix work), or silent.
  for (const v of process.env["BENCH_VARIANTS"]?.split(",") ?? [])
    apps[`gateway-${v}`] = await gatewayApp(resolve(import.meta.dirname ?? ".", "../.."), v);
  const baseRoot = process.env["BENCH_GATEWAY_ROOT"];
  if (baseRoot) apps["gateway-base"] = await gatewayApp(resolve(baseRoot));
  // BENCH_TOUCH=1: each app again, with 150 KiB copied through a 4 MiB ring before every
  // request (what a 30 KiB body's reads, decode, parse and writes stream through the caches),
  // the request itself small: whether the app's own work slows down after the caches are swept.
  if (process.env["BENCH_TOUCH"] === "1")
    for (const [name, app] of Object.entries(apps)) apps[`${name}+touch`] = touching(app);
  const cells: [string, App, string, string][] = [];
  for (const [name, app] of Object.entries(apps)) {
    cells.push([`${name} 30k`, app, large, name], [`${name} small`, app, small, name]);
    // BENCH_PAD=1: also the small prompt with 30 KiB in a field nothing reads (bytes, not prompt).
    if (process.env["BENCH_PAD"] === "1") cells.push([`${name} pad`, app, padded, name]);
  }
  // BENCH_CELLS="gateway 30k,bare 30k": only those cells (e.g. under `bun --cpu-prof`).
  const only = process.env["BENCH_CELLS"]?.split(",");
  if (only) cells.splice(0, cells.length, ...cells.filter(([k]) => only.includes(k)));
  const results = new Map<string, number[]>(cells.map(([k]) => [k, []]));
  for (const [, app, payload] of cells) await cpuPerRequest(app, payload, n / 4, concurrency); // warm-up
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? [...cells].reverse() : cells;
    for (const [k, app, payload] of order) {
      const f0 = minorFaults();
      results.get(k)!.push(await cpuPerRequest(app, payload, n, concurrency));
      faults.set(k, [...(faults.get(k) ?? []), (minorFaults() - f0) / n]);
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const runtime = typeof Bun !== "undefined" ? `Bun ${Bun.version}` : `Node ${process.version}`;
  const out = [`${runtime}: CPU µs per request, ${n} a round, ${concurrency} at a time, median of ${rounds}`];
  for (const [k, xs] of results)
    out.push(
      `  ${k.padEnd(20)} ${med(xs).toFixed(1).padStart(7)}  (best ${Math.min(...xs).toFixed(1)}), page faults a request ${med(faults.get(k)!).toFixed(2)}`,
    );
  const extra = (name: string) => {
    // Paired by round: each round's (30k − small) of the app minus the bare handler's.
    const d = results
      .get(`${name} 30k`)!
      .map(
        (v, i) =>
          v -
          results.get(`${name} small`)![i]! -
          (results.get("bare 30k")![i]! - results.get("bare small")![i]!),
      );
    return med(d);
  };
  if (!only)
    for (const name of Object.keys(apps))
      if (name !== "bare")
        out.push(`  ${name}: a 30 KiB body's extra beyond the bare handler's: ${extra(name).toFixed(1)} µs`);
  console.log(out.join("\n"));
}

if (process.argv.includes("--chain")) await chainDifferential();
else {
  const lines = [
    `body: ${bytes.length} bytes, ${typeof Bun !== "undefined" ? `bun ${Bun.version}` : `node ${process.version}`}`,
  ];
  for (const [name, fn] of items) {
    const us = bestNsPerCall(fn) / 1e3;
    lines.push(`${us.toFixed(2).padStart(8)} µs  ${name}`);
  }
  console.log(lines.join("\n"));
}
