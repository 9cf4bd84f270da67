/**
 * The gateway's answer path on the Bun wire client against a real pod, two trees side by side
 * in one process (issue 19, eleventh pass): the in-process gateway (`createGateway`, default
 * profile, metrics and the log line on, written nowhere) of this checkout and of
 * WIRE_BASE (default /tmp/base11), each calling the mock pods (upstream.ts, a child process,
 * on core 0 when taskset exists) through its own tree's `bunUpstreamFetch`. This process runs
 * on core 1. CPU µs per request of this process (the client's Request and the read of the
 * answer included: the same for both), WIRE_N requests (default 20,000) WIRE_CONC at a time
 * (32) per round, WIRE_ROUNDS rounds (15) alternating A B / B A; prints the medians and the
 * median paired difference.
 *
 *   npx bun bench/overhead/wire-pod.ts
 * WIRE_HEAD sets the first tree (default this checkout). WIRE_STREAM=1 sends `"stream":true` requests (20 chunks) instead of JSON ones.
 */
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { alternatingRounds, pairedLine, perRequest, postChat } from "../lib/in-process.ts";
import { firstJsonLine, hasTaskset, killAllOnExit, start, stopAll } from "./procs.ts";

const env = process.env;
const N = Number(env["WIRE_N"] ?? 20_000);
const CONC = Number(env["WIRE_CONC"] ?? 32);
const ROUNDS = Number(env["WIRE_ROUNDS"] ?? 15);
const STREAM = env["WIRE_STREAM"] === "1";
const ROOTS = {
  head: env["WIRE_HEAD"] ?? resolve(import.meta.dir, "../.."),
  base: env["WIRE_BASE"] ?? "/tmp/base11",
};

killAllOnExit();
if (hasTaskset) Bun.spawnSync(["taskset", "-pc", "1", String(process.pid)]);
const pod = start("pods", [process.execPath, resolve(import.meta.dir, "upstream.ts"), "--ports", "0,0"], {
  core: "0",
  stdout: "pipe",
  log: join(tmpdir(), `wire-pod-${process.pid}.log`),
});
const { ports } = await firstJsonLine<{ ports: number[] }>(pod);

async function gateway(root: string) {
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
  const gw = createGateway({
    config: parseConfig(yaml, "bench.yaml"),
    logger: createLogger("info", () => {}),
    fetch: bunUpstreamFetch({}),
  });
  return gw as { fetch(r: Request): Promise<Response> };
}

const body = JSON.stringify({
  model: "m",
  messages: [{ role: "user", content: "Hello" }],
  max_tokens: 16,
  ...(STREAM ? { stream: true } : {}),
});
const apps = { head: await gateway(ROOTS.head), base: await gateway(ROOTS.base) };
const results = await alternatingRounds(apps, ROUNDS, (app) =>
  perRequest(() => postChat(app, body), N, CONC),
);
console.log(pairedLine(`${STREAM ? "sse" : "json"} c${CONC}`, results, N));
await stopAll();
process.exit(0);
