/**
 * Two trees' whole gateways in one process on the path Bun really runs (issue 19, fourteenth
 * pass, "request"): each tree's Bun wire client to a real mock pod (upstream.ts, 2 ports, a
 * child process), small chat requests PAIR_CONC at a time, process CPU µs a request over
 * PAIR_N requests, PAIR_ROUNDS alternating rounds (A B / B A); prints the medians, the median
 * paired difference and in how many rounds the head was lower.
 *
 *   npx bun bench/overhead/request-pair.ts <head root> <base root>
 */
import { resolve } from "node:path";
import {
  alternatingRounds,
  type FetchApp,
  gatewayAt,
  mockPodPorts,
  pairedLine,
  perRequest,
  postChat,
} from "../lib/in-process.ts";

const N = Number(process.env["PAIR_N"] ?? 20_000);
const ROUNDS = Number(process.env["PAIR_ROUNDS"] ?? 15);
const CONC = Number(process.env["PAIR_CONC"] ?? 8);
const [head = resolve(import.meta.dir, "../.."), base = "/tmp/base14"] = process.argv.slice(2);

const ports = await mockPodPorts();

async function gateway(root: string): Promise<FetchApp> {
  const { bunUpstreamFetch } = await import(resolve(root, "src/runtime/bun-wire.ts"));
  return gatewayAt(root, {
    addresses: ports.map((p) => `127.0.0.1:${p}`),
    fetch: bunUpstreamFetch(),
    directStreams: true,
  });
}

const body = JSON.stringify({
  model: "m",
  messages: [{ role: "user", content: "Hello there, how are you today?" }],
  max_tokens: 16,
});
const apps = { head: await gateway(head), base: await gateway(base) };
const results = await alternatingRounds(apps, ROUNDS, (app) =>
  perRequest(() => postChat(app, body), N, CONC),
);
console.log(pairedLine(`small JSON, wire client, ${CONC} at a time, CPU`, results, N));
process.exit(0);
