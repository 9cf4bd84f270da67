/**
 * Where a stream sent at once (sse32's shape) costs the gateway more than a JSON answer, in
 * process (issue 19, fifteenth pass): the gateway of this tree (or STREAMS_TREE) answering
 * N requests of one kind, the pod answering as the Bun wire client hands answers over (the
 * stream as a queue already ended: attempt's `whole`). Run it twice under `bun --cpu-prof`
 * (json, then stream) and compare self time by function; or without the profiler for CPU µs a
 * request of each, interleaved.
 *
 *   npx bun bench/overhead/streams-whole-prof.ts [json|stream|both] [n]
 *
 * STREAMS_HEAP=400000 keeps that many small objects alive first (a heap like the running
 * gateway's: Bun's cost of a larger answer grows with it, seventh pass).
 */

import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { COMPLETION } from "../lib/in-process.ts";
import { STREAM_EVENTS } from "./bodies.ts";

const TREE = process.env["STREAMS_TREE"];
const url = (p: string) =>
  TREE ? pathToFileURL(join(TREE, p)).href : new URL(`../../${p}`, import.meta.url).href;
const which = process.argv[2] ?? "both";
const N = Number(process.argv[3] ?? 100000);
const enc = new TextEncoder();
const whole = enc.encode(STREAM_EVENTS.join(""));
const kept = Array.from({ length: Number(process.env["STREAMS_HEAP"] ?? 0) }, (_, i) => ({ i, s: `k${i}` }));

const { createGateway } = await import(url("src/gateway.ts"));
const { parseConfig } = await import(url("src/config/load.ts"));
const { createLogger } = await import(url("src/log.ts"));
const { ChunkQueue } = await import(url("src/runtime/node-chunks.ts"));
const { bufferedResponse, streamedResponse } = await import(url("src/runtime/node-upstream-response.ts"));
const yaml = `apiVersion: gateway.inference.dev/v1alpha1\nkind: GatewayConfig\nendpoints:\n  - { name: p0, address: "127.0.0.1:1", models: [m] }\n`;
const headers = (type: string, n: number) =>
  new Headers({ "content-type": type, "content-length": String(n) });
const gw = createGateway({
  config: parseConfig(yaml, "bench.yaml"),
  logger: createLogger("info", () => {}),
  directStreams: true,
  fetch: async (_u: unknown, init: { body: Uint8Array | string }) => {
    const text = typeof init.body === "string" ? init.body : new TextDecoder().decode(init.body);
    if (!text.includes('"stream":true'))
      return bufferedResponse(COMPLETION, 200, headers("application/json", COMPLETION.length));
    const queue = new ChunkQueue(
      () => {},
      () => {},
      65536,
      true,
    );
    // As the wire client: the whole answer queued and ended before the call settles.
    queue.push(whole.slice());
    queue.end();
    return streamedResponse(queue, 200, headers("text/event-stream", whole.length));
  },
}) as { fetch(r: Request): Promise<Response> };

const ask = (stream: boolean) =>
  JSON.stringify({
    model: "m",
    ...(stream ? { stream: true } : {}),
    messages: [{ role: "user", content: "hi" }],
  });
const bodies = { json: ask(false), stream: ask(true) };
let lastLen = 0;
async function run(kind: "json" | "stream", n: number): Promise<number> {
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const res = await gw.fetch(
      new Request("http://gw/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: bodies[kind],
      }),
    );
    if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
    lastLen = (await res.arrayBuffer()).byteLength;
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}
if (kept.length === -1) console.log(kept);
if (which === "both") {
  const best = { json: Infinity, stream: Infinity };
  for (let r = 0; r < 8; r++)
    for (const k of ["json", "stream"] as const) {
      const us = await run(k, r === 0 ? 3000 : N / 10);
      if (r > 0) best[k] = Math.min(best[k], us);
    }
  console.log(
    `json ${best.json.toFixed(1)} stream ${best.stream.toFixed(1)} (+${(best.stream - best.json).toFixed(1)}) µs CPU a request; answer ${lastLen} B`,
  );
} else {
  await run(which as "json" | "stream", 5000);
  console.log(
    `${which}: ${(await run(which as "json" | "stream", N)).toFixed(1)} µs a request, answer ${lastLen} B`,
  );
}
