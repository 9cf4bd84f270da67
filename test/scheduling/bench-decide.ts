/**
 * Micro-benchmark (not a test): one `decide` over 64 endpoints with a 32k-character chat
 * prompt, default profile. Run: `npx bun test/scheduling/bench-decide.ts` (or tsx/deno).
 */
import { builtinRegistry } from "../../plugins/index.ts";
import { seededRandom, systemClock } from "../../src/clock.ts";
import { InFlight } from "../../src/endpoints/inflight.ts";
import { createScheduler } from "../../src/scheduling/framework/index.ts";
import { hashPrefix } from "../../src/scheduling/prefix/hashes.ts";
import type { SchedulingRequest } from "../../src/scheduling/types.ts";
import { endpoint, prompt } from "./helpers.ts";

const ENDPOINTS = 64;
const CHARS = 32_000;
const r = seededRandom(1);
const eps = Array.from({ length: ENDPOINTS }, (_, i) =>
  endpoint(`pod-${i}:8000`, {
    waitingQueueSize: Math.floor(r() * 6),
    runningRequests: Math.floor(r() * 20),
    kvCacheUsage: r() * 0.9,
    updatedAt: 1,
  }),
);
// 16 conversations sharing a 4k system prompt, so the index sees both hits and misses.
const system = prompt(7, 4000);
const prompts = Array.from({ length: 16 }, (_, i) => system + prompt(100 + i, CHARS - system.length));
const req = (i: number): SchedulingRequest => ({
  requestId: `r${i}`,
  targetModel: "meta-llama/Llama-3.1-8B-Instruct",
  body: { messages: [{ role: "user", content: prompts[i % prompts.length] }] },
  headers: new Headers(),
});

function measure(label: string, n: number, fn: (i: number) => void): void {
  for (let i = 0; i < 200; i++) fn(i); // warm up the JIT
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn(i);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const us = (x: number) => `${(x * 1000).toFixed(0)} µs`;
  const mean = times.reduce((a, b) => a + b, 0) / n;
  console.log(
    `${label}: mean ${us(mean)}, p50 ${us(times[n >> 1]!)}, p99 ${us(times[Math.floor(n * 0.99)]!)} (n=${n})`,
  );
}

const s = createScheduler({
  registry: builtinRegistry(),
  inflight: new InFlight(),
  random: seededRandom(2),
  clock: systemClock,
});
measure(`decide, ${ENDPOINTS} endpoints, ${CHARS}-char prompt`, 2000, (i) => {
  s.decide(req(i), eps);
});
measure("  of which: hash 256 blocks", 2000, (i) => {
  hashPrefix(prompts[i % prompts.length]!, { model: "m", blockChars: 64, maxBlocks: 256 });
});
console.log("prefix index:", s.prefixIndex.stats());
