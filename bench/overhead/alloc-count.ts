/**
 * What one small chat request allocates in the gateway, by kind of heap cell (issue 19,
 * twelfth pass): the whole gateway in process, its pod calls on the Bun wire client to a
 * real mock pod (bench/overhead/upstream.ts in a child process), the request log on. Each
 * burst: a full collection, the heap's cell counts (`heapStats()` from bun:jsc), 32 clients
 * × 12 requests, the counts again; cells a request = the difference ÷ 384, the median of
 * the bursts. A burst stays well under one young-generation budget, so what the requests
 * allocated is still counted (a collection inside a burst shows as a negative or a drop).
 *
 * Every cell is an allocation the collector later sweeps: closures (`Function` and the
 * `JSLexicalEnvironment` they keep), promises, async frames (`AsyncFunctionGenerator`),
 * strings, plain objects. The driver's own Request and the answer read are counted too
 * (~18-23 cells; `--bare` counts a handler that reads, parses and answers the same bytes).
 *
 *   bun bench/overhead/alloc-count.ts [<checkout> ...] [--bursts 7] [--bare]
 * One column per checkout (default: this one), e.g. `bun bench/overhead/alloc-count.ts . /tmp/base`.
 */
import { heapStats } from "bun:jsc";
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { bursts: { type: "string", default: "7" }, bare: { type: "boolean", default: false } },
});
const roots = (positionals.length ? positionals : [resolve(import.meta.dir, "../..")]).map((r) => resolve(r));
const BURSTS = Number(values.bursts);
const CLIENTS = 32;
const PER_CLIENT = 12;

const pod = spawn(process.execPath, [resolve(import.meta.dir, "upstream.ts"), "--ports", "0,0"], {
  stdio: ["ignore", "pipe", "inherit"],
});
process.on("exit", () => pod.kill());
const ports: number[] = await new Promise((ok) => {
  let buf = "";
  pod.stdout!.on("data", (d: Buffer) => {
    buf += d;
    const nl = buf.indexOf("\n");
    if (nl >= 0) ok((JSON.parse(buf.slice(0, nl)) as { ports: number[] }).ports);
  });
});

const body = JSON.stringify({
  model: "m",
  messages: [{ role: "user", content: "Hello there, how are you today?" }],
  max_tokens: 16,
});
const request = () =>
  new Request("http://gw/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json", "content-length": String(body.length) },
    body,
  });

interface App {
  fetch(r: Request): Response | Promise<Response>;
}

async function gateway(root: string): Promise<App> {
  const { createGateway } = await import(resolve(root, "src/gateway.ts"));
  const { parseConfig } = await import(resolve(root, "src/config/load.ts"));
  const { createLogger } = await import(resolve(root, "src/log.ts"));
  const { bunUpstreamFetch } = await import(resolve(root, "src/runtime/bun-wire.ts"));
  const yaml = [
    "apiVersion: gateway.inference.dev/v1alpha1",
    "kind: GatewayConfig",
    "logLevel: info",
    "endpoints:",
    ...ports.map((p, i) => `  - { name: pod-${i}, address: "127.0.0.1:${p}", models: [m] }`),
  ].join("\n");
  return createGateway({
    config: parseConfig(yaml, "alloc-count.yaml"),
    logger: createLogger("info", () => {}),
    fetch: bunUpstreamFetch(),
  });
}

/** The floor: read the body, parse it, "forward" it on the same wire client, answer its bytes. */
async function bareApp(root: string): Promise<App> {
  const { bunUpstreamFetch } = await import(resolve(root, "src/runtime/bun-wire.ts"));
  const upstream = bunUpstreamFetch()!;
  const url = `http://127.0.0.1:${ports[0]}/v1/chat/completions`;
  return {
    async fetch(req) {
      const bytes = await req.arrayBuffer();
      JSON.parse(new TextDecoder().decode(bytes));
      const res = await upstream(url, { method: "POST", headers: req.headers, body: bytes });
      return new Response(await res.arrayBuffer(), { status: res.status, headers: res.headers });
    },
  };
}

async function burst(app: App, perClient: number): Promise<void> {
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      for (let i = 0; i < perClient; i++) await (await app.fetch(request())).arrayBuffer();
    }),
  );
}

async function cellsPerRequest(app: App): Promise<Map<string, number>> {
  await burst(app, 500); // compiled and steady
  const runs = new Map<string, number[]>();
  for (let b = 0; b < BURSTS; b++) {
    Bun.gc(true);
    const before = heapStats().objectTypeCounts as Record<string, number>;
    await burst(app, PER_CLIENT);
    const after = heapStats().objectTypeCounts as Record<string, number>;
    for (const k of new Set([...Object.keys(before), ...Object.keys(after)]))
      runs.set(k, [...(runs.get(k) ?? []), ((after[k] ?? 0) - (before[k] ?? 0)) / (CLIENTS * PER_CLIENT)]);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  return new Map([...runs].map(([k, xs]) => [k, median(xs)]));
}

const columns: [string, Map<string, number>][] = [];
for (const root of roots) columns.push([root, await cellsPerRequest(await gateway(root))]);
if (values.bare) columns.push(["bare handler", await cellsPerRequest(await bareApp(roots[0]!))]);

const kinds = [...new Set(columns.flatMap(([, m]) => [...m.keys()]))]
  .filter((k) => columns.some(([, m]) => Math.abs(m.get(k) ?? 0) >= 0.05))
  .sort((a, b) => (columns[0]![1].get(b) ?? 0) - (columns[0]![1].get(a) ?? 0));
const total = (m: Map<string, number>) => kinds.reduce((s, k) => s + (m.get(k) ?? 0), 0);
const lines = [
  `Heap cells a small request allocates (Bun ${Bun.version}; median of ${BURSTS} bursts of ${CLIENTS * PER_CLIENT})`,
  "",
  `| kind | ${columns.map(([name]) => name).join(" | ")} |`,
  `|---|${columns.map(() => "---:").join("|")}|`,
  `| **total** | ${columns.map(([, m]) => total(m).toFixed(1)).join(" | ")} |`,
  ...kinds.map((k) => `| ${k} | ${columns.map(([, m]) => (m.get(k) ?? 0).toFixed(2)).join(" | ")} |`),
];
console.log(lines.join("\n"));
process.exit(0);
