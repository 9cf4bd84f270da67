/**
 * What one small JSON request allocates in the gateway, by JSC cell type (issue 19, ninth
 * pass, the core's per-request JS): `bun:jsc` heapStats().objectTypeCounts over N requests
 * after a full collection, 4 endpoints, default profile, metrics and the log line on (dropped).
 * BENCH_GATEWAY_ROOT=<another checkout>: that tree's census beside this one's.
 * Run: `bun bench/overhead/core-census.ts` (BENCH_N, default 300).
 */
import { heapStats } from "bun:jsc";
import { resolve } from "node:path";
import { chatRequest, gatewayAt } from "../lib/in-process.ts";

const N = Number(process.env["BENCH_N"] ?? 300);
const request = () =>
  chatRequest(JSON.stringify({ model: "m", messages: [{ role: "user", content: "Hello" }], max_tokens: 16 }));

async function census(root: string): Promise<Record<string, number>> {
  const gw = await gatewayAt(root);
  const one = async (r: Request) => {
    const res = await gw.fetch(r);
    if (res.status !== 200) throw new Error(`status ${res.status}`);
    await res.arrayBuffer();
  };
  for (let i = 0; i < 2000; i++) await one(request());
  const requests = Array.from({ length: N }, request);
  Bun.gc(true);
  const before = heapStats().objectTypeCounts;
  for (const r of requests) await one(r);
  const after = heapStats().objectTypeCounts;
  const out: Record<string, number> = {};
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const d = ((after[k] ?? 0) - (before[k] ?? 0)) / N;
    if (Math.abs(d) >= 0.05) out[k] = d;
  }
  return out;
}

const here = resolve(import.meta.dirname ?? ".", "../..");
const base = process.env["BENCH_GATEWAY_ROOT"];
const a = await census(here);
const b = base ? await census(base) : undefined;
const keys = [...new Set([...Object.keys(a), ...Object.keys(b ?? {})])].sort(
  (x, y) => (a[y] ?? 0) - (a[x] ?? 0),
);
let ta = 0;
let tb = 0;
for (const k of keys) {
  ta += a[k] ?? 0;
  tb += b?.[k] ?? 0;
  console.log(
    `${k.padEnd(32)} ${(a[k] ?? 0).toFixed(2).padStart(8)}${b ? (b[k] ?? 0).toFixed(2).padStart(8) : ""}`,
  );
}
console.log(`${"total".padEnd(32)} ${ta.toFixed(2).padStart(8)}${b ? tb.toFixed(2).padStart(8) : ""}`);
