/**
 * Simulated vLLM pods for the benchmarks, and what we read back from their own /metrics.
 *
 * By default the pods run in a child Bun process (bench/lib/pod-fleet-child.ts), so the
 * gateway and the load generator get this process to themselves and the pods' timers
 * are not delayed by gateway work (the machine has 2 cores). `inline: true` runs them
 * in this process instead (BENCH_INLINE_PODS=1).
 */
import { fileURLToPath } from "node:url";
import { seededRandom } from "../../src/clock.ts";
import { serveBun } from "../../src/runtime/serve-bun.ts";
import { type SimulatorOptions, startSimulators } from "../../src/simulator/index.ts";

/** A pod's options, JSON-friendly: a seed instead of a Random. */
export type PodSpec = Omit<SimulatorOptions, "random" | "clock"> & { seed?: number };

/** Counters and gauges read from one pod's /metrics. */
export interface PodCounters {
  /** vllm:prefix_cache_queries_total / _hits_total, in tokens. */
  prefixQueries: number;
  prefixHits: number;
  waiting: number;
  running: number;
  kvUsage: number;
  generationTokens: number;
}

export interface PodFleet {
  /** `127.0.0.1:port` of each pod. */
  addresses: string[];
  counters(): Promise<PodCounters[]>;
  close(): Promise<void>;
}

const CHILD = fileURLToPath(new URL("./pod-fleet-child.ts", import.meta.url));

export async function startPodFleet(specs: PodSpec[], opts: { inline?: boolean } = {}): Promise<PodFleet> {
  const inline = opts.inline ?? process.env["BENCH_INLINE_PODS"] === "1";
  let ports: number[];
  let stop: () => Promise<void>;
  if (inline) {
    const pods = await startSimulators(
      serveBun,
      specs.map(({ seed, ...s }, i) => ({
        ...s,
        random: seededRandom(seed ?? 100 + i),
        port: 0,
        hostname: "127.0.0.1",
      })),
    );
    ports = pods.map((p) => p.port);
    stop = async () => {
      await Promise.all(pods.map((p) => p.close()));
    };
  } else {
    const child = Bun.spawn([process.execPath, CHILD], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "inherit",
      env: { ...process.env, POD_FLEET_SPEC: JSON.stringify(specs) },
    });
    const reader = child.stdout.getReader();
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("pod fleet: the child process exited before listening");
      text += new TextDecoder().decode(value);
    }
    reader.releaseLock();
    ports = (JSON.parse(text.slice(0, text.indexOf("\n"))) as { ports: number[] }).ports;
    stop = async () => {
      child.stdin.end();
      const timer = setTimeout(() => child.kill(), 5000);
      await child.exited;
      clearTimeout(timer);
    };
  }
  const addresses = ports.map((p) => `127.0.0.1:${p}`);
  return {
    addresses,
    counters: () => Promise.all(addresses.map(scrapePod)),
    close: stop,
  };
}

/** Reads one pod's /metrics (a simulated vLLM pod: `vllm:*` series, one model). */
export async function scrapePod(address: string): Promise<PodCounters> {
  const text = await (await fetch(`http://${address}/metrics`)).text();
  const value = (name: string): number => {
    const at = text.indexOf(`\n${name}{`);
    if (at < 0) return Number.NaN;
    const lineEnd = text.indexOf("\n", at + 1);
    const line = text.slice(at + 1, lineEnd < 0 ? undefined : lineEnd);
    return Number(line.slice(line.lastIndexOf(" ") + 1));
  };
  return {
    prefixQueries: value("vllm:prefix_cache_queries_total"),
    prefixHits: value("vllm:prefix_cache_hits_total"),
    waiting: value("vllm:num_requests_waiting"),
    running: value("vllm:num_requests_running"),
    kvUsage: value("vllm:kv_cache_usage_perc"),
    generationTokens: value("vllm:generation_tokens_total"),
  };
}

/** Prefix-cache hit rate (hit tokens / queried tokens) over all pods between two reads. */
export function hitRate(before: PodCounters[], after: PodCounters[]): number {
  let hits = 0;
  let queries = 0;
  after.forEach((a, i) => {
    const b = before[i];
    hits += a.prefixHits - (b?.prefixHits ?? 0);
    queries += a.prefixQueries - (b?.prefixQueries ?? 0);
  });
  return queries > 0 ? hits / queries : Number.NaN;
}
