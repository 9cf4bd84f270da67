/**
 * The paced SSE case (sse32p) in process, two trees side by side (issue 19, twelfth
 * pass): the in-process gateway (`createGateway`, default profile, metrics and the log line
 * on, written nowhere) of this checkout and of PACED_BASE (default /tmp/base12), each calling
 * the mock pods (upstream.ts, a child process, on core 0 when taskset exists) through its own
 * tree's Bun wire client, its streams relayed as the Bun entry relays them (`directStreams`:
 * Bun's direct streams, read here by a reader as a client's socket would take them). Every
 * stream is 20 chunks 5 ms apart, so each chunk wakes this process on its own, as in the
 * end-to-end case. This process runs on core 1. CPU µs per stream of this process (the
 * client's Request and the reading of the answer included: the same for both), PACED_N
 * streams (default 640) PACED_CONC at a time (32) per round, PACED_ROUNDS rounds (12)
 * alternating A B / B A; prints the medians and the median paired difference.
 *
 *   npx bun bench/overhead/paced-pod.ts
 * PACED_HEAD sets the first tree (default this checkout); PACED_CHUNKS, PACED_INTERVAL_MS the
 * pod's pacing (20, 5).
 */
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { alternatingRounds, type FetchApp, pairedLine, perRequest } from "../lib/in-process.ts";
import { firstJsonLine, hasTaskset, killAllOnExit, start, stopAll } from "./procs.ts";

const env = process.env;
const N = Number(env["PACED_N"] ?? 640);
const CONC = Number(env["PACED_CONC"] ?? 32);
const ROUNDS = Number(env["PACED_ROUNDS"] ?? 12);
const CHUNKS = env["PACED_CHUNKS"] ?? "20";
const INTERVAL = env["PACED_INTERVAL_MS"] ?? "5";
const ROOTS = {
  head: env["PACED_HEAD"] ?? resolve(import.meta.dir, "../.."),
  base: env["PACED_BASE"] ?? "/tmp/base12",
};

killAllOnExit();
if (hasTaskset) Bun.spawnSync(["taskset", "-pc", "1", String(process.pid)]);
const pod = start("pods", [process.execPath, resolve(import.meta.dir, "upstream.ts"), "--ports", "0,0"], {
  core: "0",
  stdout: "pipe",
  log: join(tmpdir(), `paced-pod-${process.pid}.log`),
});
const { ports } = await firstJsonLine<{ ports: number[] }>(pod);

async function gateway(root: string): Promise<FetchApp> {
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
    config: parseConfig(yaml, "bench.yaml"),
    logger: createLogger("info", () => {}),
    fetch: bunUpstreamFetch({}),
    directStreams: true,
  }) as FetchApp;
}

const body = JSON.stringify({
  model: "m",
  messages: [{ role: "user", content: "Hello" }],
  max_tokens: 20,
  stream: true,
});
const headers = {
  "content-type": "application/json",
  "content-length": String(body.length),
  "x-mock-chunks": CHUNKS,
  "x-mock-interval-ms": INTERVAL,
};

/** One paced stream through `app`, read to its end chunk by chunk (throws on any other status). */
async function stream(app: FetchApp): Promise<void> {
  const res = await app.fetch(
    new Request("http://gw/v1/chat/completions", { method: "POST", headers, body }),
  );
  if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
  const reader = res.body!.getReader();
  for (;;) if ((await reader.read()).done) break;
}

const apps = { head: await gateway(ROOTS.head), base: await gateway(ROOTS.base) };
const results = await alternatingRounds(apps, ROUNDS, (app) => perRequest(() => stream(app), N, CONC));
console.log(pairedLine(`sse paced (${CHUNKS} chunks ${INTERVAL} ms apart) c${CONC}`, results, N));
await stopAll();
process.exit(0);
