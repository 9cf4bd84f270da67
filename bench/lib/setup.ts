/** The pods and workload the gateway-level scheduling benchmarks share (quality, replicas). */
import type { PodSpec } from "./pods.ts";
import type { SharedPrefixWorkload } from "./workload.ts";

export const MODEL = "m";

/** The latency model, in simulated time (see src/simulator/options.ts). */
export const POD = {
  model: MODEL,
  maxNumSeqs: 8,
  blockSize: 16,
  /** 1200 blocks x 16 tokens: room for ~9 of the 32 system prompts (125 blocks each). */
  numGpuBlocks: 1200,
  prefillOverheadMs: 20,
  prefillMsPerToken: 0.5,
  interTokenMs: 20,
  timeFactorMax: 2,
  jitter: 0.05,
} satisfies PodSpec;

export const WORKLOAD: SharedPrefixWorkload = {
  groups: 32,
  usersPerGroup: 4,
  systemChars: 8000, // 2000 tokens: 1000 ms of prefill uncached, ~0 cached
  questionChars: [200, 600],
  answerChars: 300,
  maxTurns: 3,
  maxTokens: 32,
};

export function pods(n: number, timeScale: number): PodSpec[] {
  return Array.from({ length: n }, (_, i) => ({ ...POD, timeScale, seed: 100 + i }));
}

/** System prompts one pod's cache can hold. */
export const promptsPerPod = Math.floor(POD.numGpuBlocks / (WORKLOAD.systemChars / 4 / POD.blockSize));

export function setupNotes(opts: {
  pods: number;
  seconds: number;
  timeScale: number;
  warmup: number;
  drain: number;
}) {
  const { pods: n, seconds, timeScale, warmup, drain } = opts;
  return [
    `- ${n} simulated vLLM pods (in a child process), each: max-num-seqs ${POD.maxNumSeqs}, ` +
      `${POD.numGpuBlocks} KV blocks of ${POD.blockSize} tokens (also its prefix-cache capacity), ` +
      `prefill ${POD.prefillOverheadMs} ms + ${POD.prefillMsPerToken} ms per uncached token, ` +
      `${POD.interTokenMs} ms per output token, latency ×1..×${POD.timeFactorMax} with load, jitter ${POD.jitter * 100} %.`,
    `- Shared-prefix workload: ${WORKLOAD.groups} groups, each with a ${WORKLOAD.systemChars}-character ` +
      `(${WORKLOAD.systemChars / 4}-token) system prompt; ${WORKLOAD.usersPerGroup} users per group; questions of ` +
      `${WORKLOAD.questionChars[0]}-${WORKLOAD.questionChars[1]} characters; conversations of up to ${WORKLOAD.maxTurns} ` +
      `turns (earlier questions and ${WORKLOAD.answerChars}-character answers carried in the history); ` +
      `${WORKLOAD.maxTokens} output tokens. A pod's cache holds about ${promptsPerPod} ` +
      `system prompts, the ${n} pods about ${n * promptsPerPod}: every group fits once, not everywhere.`,
    `- Poisson arrivals for ${seconds} s wall per run (${seconds / timeScale} s simulated), ` +
      `first ${warmup * 100} % excluded; fresh pods (cold caches) and gateways per run; ` +
      `statistics over the requests sent after the warm-up, followed to their end (drain limit ${drain} s wall).`,
    `- Pods run at timeScale ${timeScale}; all rates and latencies are in simulated time ` +
      "(wall-clock ÷ timeScale), i.e. in the latency model's units. The lag column is the gateway " +
      "process's event-loop lag (wall ms, p99): the noise floor of that run.",
    "- TTFT is bimodal in this setup: about 120-250 ms when the pod holds the group's system prompt, " +
      "1,000 ms and more when it does not; TTFT p90 therefore jumps as soon as more than ~10 % of " +
      "requests miss, and is a knife-edge statistic near that point.",
    "- Hit rate = Δ`vllm:prefix_cache_hits_total` / Δ`vllm:prefix_cache_queries_total` summed over the pods " +
      "(tokens), from the warm-up's end until the last request ended.",
  ];
}

export const env = (k: string, d: string) => process.env[k] ?? d;
export const list = (s: string) =>
  s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);

/** The `KNOB=value ... npm run <script>` line that reproduces this run. */
export function commandLine(script: string, knobs: string[]): string {
  const set = knobs.filter((k) => process.env[k] !== undefined).map((k) => `${k}=${process.env[k]}`);
  return [...set, `npm run ${script}`].join(" ");
}
