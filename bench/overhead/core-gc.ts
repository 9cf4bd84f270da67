/**
 * Eden collections per 100k small JSON requests in process (issue 19, ninth pass): run under
 * `BUN_JSC_logGC=1` and count the collection lines it prints to stderr. One gateway (this
 * checkout's, or BENCH_GATEWAY_ROOT's), 4 endpoints, default profile, metrics and the log line
 * on (dropped), 8 requests at a time; prints the process CPU µs a request on stdout.
 * Run: `BUN_JSC_logGC=1 bun bench/overhead/core-gc.ts 2>&1 | grep -c Eden` (BENCH_N, default 100,000).
 */
import { resolve } from "node:path";
import { gatewayAt, perRequest, postChat } from "../lib/in-process.ts";

const N = Number(process.env["BENCH_N"] ?? 100_000);
const root = process.env["BENCH_GATEWAY_ROOT"] ?? resolve(import.meta.dirname ?? ".", "../..");
const gw = await gatewayAt(root);
const body = '{"model":"m","messages":[{"role":"user","content":"Hello"}],"max_tokens":16}';
await perRequest(() => postChat(gw, body), 20_000, 8);
Bun.gc(true);
console.error("=== measured ===");
const us = await perRequest(() => postChat(gw, body), N, 8);
console.error("=== end ===");
console.log(`${us.toFixed(2)} µs CPU a request`);
process.exit(0);
