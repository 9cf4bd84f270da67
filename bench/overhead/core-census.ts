/**
 * What one small chat request allocates in the gateway, by JSC cell type (issue 19, ninth
 * pass; the wire mode twelfth pass). Each burst: a full collection, `heapStats()` from
 * bun:jsc, 32 clients × 12 requests, the counts again; cells a request = the difference ÷
 * 384, the median of the bursts (a burst stays well under one young-generation budget, so what
 * the requests allocated is still counted). Default profile, metrics and the log line on.
 *
 * Every cell is an allocation the collector later sweeps: closures (`Function` and the
 * `JSLexicalEnvironment` they keep), promises, async frames (`AsyncFunctionGenerator`),
 * strings, plain objects. The driver's own Request and the answer read are counted too.
 *
 * - default: 4 endpoints, the pod calls answered at once by the fetch seam (no sockets), as
 *   the ninth pass measured;
 * - `--wire`: the pod calls on the Bun wire client to a real mock pod (bench/overhead/upstream.ts,
 *   2 ports, in a child process), as the gateway runs under Bun; `--bare` then adds a handler
 *   that reads, parses and forwards the same bytes on the same wire client (the floor);
 *   `--stream`: a streamed request (the mock pod sends its 20 chunks at once, as sse32).
 *
 *   bun bench/overhead/core-census.ts [<checkout> ...] [--wire [--bare] [--stream]] [--bursts 7]
 * One column per checkout (default: this one; BENCH_GATEWAY_ROOT adds one, as before).
 */
import { heapStats } from "bun:jsc";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { chatRequest, type FetchApp, gatewayAt, mockPodPorts } from "../lib/in-process.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    bursts: { type: "string", default: "7" },
    wire: { type: "boolean", default: false },
    bare: { type: "boolean", default: false },
    stream: { type: "boolean", default: false },
  },
});
const roots = [
  ...(positionals.length ? positionals : [resolve(import.meta.dir, "../..")]),
  ...(process.env["BENCH_GATEWAY_ROOT"] ? [process.env["BENCH_GATEWAY_ROOT"]] : []),
].map((r) => resolve(r));
const BURSTS = Number(values.bursts);
const CLIENTS = 32;
const PER_CLIENT = 12;

const body = JSON.stringify({
  model: "m",
  messages: [{ role: "user", content: "Hello there, how are you today?" }],
  max_tokens: 16,
  ...(values.stream ? { stream: true } : {}),
});

const ports = values.wire ? await mockPodPorts() : [];

async function gateway(root: string): Promise<FetchApp> {
  if (!values.wire) return gatewayAt(root);
  const { bunUpstreamFetch } = await import(resolve(root, "src/runtime/bun-wire.ts"));
  return gatewayAt(root, {
    addresses: ports.map((p) => `127.0.0.1:${p}`),
    fetch: bunUpstreamFetch(),
    directStreams: true, // as the Bun entry relays streams
  });
}

/** The floor on the wire client: read the body, parse it, forward it, answer its bytes. */
async function bareApp(root: string): Promise<FetchApp> {
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

async function burst(app: FetchApp, perClient: number): Promise<void> {
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      for (let i = 0; i < perClient; i++) {
        const res = await app.fetch(chatRequest(body));
        if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
        await res.arrayBuffer();
      }
    }),
  );
}

async function cellsPerRequest(app: FetchApp): Promise<Map<string, number>> {
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
if (values.wire && values.bare)
  columns.push(["bare handler", await cellsPerRequest(await bareApp(roots[0]!))]);

const kinds = [...new Set(columns.flatMap(([, m]) => [...m.keys()]))]
  .filter((k) => columns.some(([, m]) => Math.abs(m.get(k) ?? 0) >= 0.05))
  .sort((a, b) => (columns[0]![1].get(b) ?? 0) - (columns[0]![1].get(a) ?? 0));
const total = (m: Map<string, number>) => kinds.reduce((s, k) => s + (m.get(k) ?? 0), 0);
const lines = [
  `Heap cells a small request allocates (Bun ${Bun.version}; ${values.wire ? "wire client, real mock pod" : "fetch seam answers at once"}; median of ${BURSTS} bursts of ${CLIENTS * PER_CLIENT})`,
  "",
  `| kind | ${columns.map(([name]) => name).join(" | ")} |`,
  `|---|${columns.map(() => "---:").join("|")}|`,
  `| **total** | ${columns.map(([, m]) => total(m).toFixed(1)).join(" | ")} |`,
  ...kinds.map((k) => `| ${k} | ${columns.map(([, m]) => (m.get(k) ?? 0).toFixed(2)).join(" | ")} |`),
];
console.log(lines.join("\n"));
process.exit(0);
