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

import { fileURLToPath } from "node:url";
import { chatBody, chatCpu, queuedStreamGateway } from "../lib/queued-stream-pod.ts";
import { STREAM_EVENTS } from "./bodies.ts";

const root = process.env["STREAMS_TREE"] ?? fileURLToPath(new URL("../..", import.meta.url));
const which = process.argv[2] ?? "both";
const N = Number(process.argv[3] ?? 100000);
const whole = new TextEncoder().encode(STREAM_EVENTS.join(""));
const kept = Array.from({ length: Number(process.env["STREAMS_HEAP"] ?? 0) }, (_, i) => ({ i, s: `k${i}` }));

// As the wire client: the whole answer queued and ended before the call settles.
const gw = await queuedStreamGateway(root, { stream: whole, delivery: "whole", directStreams: true });
const bodies = { json: chatBody(false), stream: chatBody(true) };
let lastLen = 0;
async function run(kind: "json" | "stream", n: number): Promise<number> {
  const { us, bytes } = await chatCpu(gw, bodies[kind], n);
  lastLen = bytes;
  return us;
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
