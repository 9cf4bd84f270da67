/**
 * Eden collections per 100k small JSON requests in process (issue 19, ninth pass): run under
 * `BUN_JSC_logGC=1` and count the collection lines it prints to stderr. One gateway (this
 * checkout's, or BENCH_GATEWAY_ROOT's), 4 endpoints, default profile, metrics and the log line
 * on (dropped), 8 requests at a time; prints the process CPU µs a request on stdout.
 * Run: `BUN_JSC_logGC=1 bun bench/overhead/core-gc.ts 2>&1 | grep -c Eden` (BENCH_N, default 100,000).
 */
import { resolve } from "node:path";
import { perRequest, postChat } from "../lib/in-process.ts";

const N = Number(process.env["BENCH_N"] ?? 100_000);
const root = process.env["BENCH_GATEWAY_ROOT"] ?? resolve(import.meta.dirname ?? ".", "../..");
const COMPLETION = new TextEncoder().encode(
  JSON.stringify({
    id: "c",
    object: "chat.completion",
    model: "m",
    choices: [{ index: 0, message: { role: "assistant", content: "Hi" }, finish_reason: "stop" }],
    usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
  }),
);
const { createGateway } = await import(resolve(root, "src/gateway.ts"));
const { parseConfig } = await import(resolve(root, "src/config/load.ts"));
const { createLogger } = await import(resolve(root, "src/log.ts"));
const yaml = [
  "apiVersion: gateway.inference.dev/v1alpha1",
  "kind: GatewayConfig",
  "endpoints:",
  ...Array.from(
    { length: 4 },
    (_, i) => `  - { name: pod-${i}, address: "127.0.0.1:${i + 1}", models: [m] }`,
  ),
].join("\n");
const gw = createGateway({
  config: parseConfig(yaml, "gc.yaml"),
  logger: createLogger("info", () => {}),
  fetch: async () => new Response(COMPLETION, { headers: { "content-type": "application/json" } }),
});
const body = '{"model":"m","messages":[{"role":"user","content":"Hello"}],"max_tokens":16}';
await perRequest(() => postChat(gw, body), 20_000, 8);
Bun.gc(true);
console.error("=== measured ===");
const us = await perRequest(() => postChat(gw, body), N, 8);
console.error("=== end ===");
console.log(`${us.toFixed(2)} µs CPU a request`);
process.exit(0);
