/**
 * Command line entry for a simulated vLLM pod (the only simulator file that may use
 * runtime APIs). `bun run src/simulator/cli.ts --help` lists the flags.
 */
import { parseArgs } from "node:util";
import type { ServeFn } from "../runtime/server.ts";
import { type SimulatorOptions, startSimulators } from "./index.ts";

const HELP = `Simulated vLLM pod (OpenAI API + vLLM metrics)

Usage: bun run src/simulator/cli.ts --model NAME [options]

  --port N                 port to listen on (default 8000; 0 picks a free one)
  --host ADDR              address to bind (default 0.0.0.0)
  --model NAME             base model name (required)
  --lora a,b               LoRA adapters served as model names
  --max-loras N            adapters active at once (default 4)
  --max-num-seqs N         running requests at most; the rest wait (default 5)
  --block-size N           tokens per KV block (default 16)
  --num-gpu-blocks N       KV blocks (default 2048)
  --max-model-len N        context length in tokens (default 8192)
  --time-scale X           multiplies every simulated duration (default 1)
  --inter-token-ms X       decode time per token (default 20)
  --prefill-ms-per-token X prefill time per uncached prompt token (default 0.2)
  --prefill-overhead-ms X  fixed prefill time per request (default 20)
  --time-factor-max X      latency multiplier at max-num-seqs running (default 2)
  --jitter X               Gaussian jitter std-dev as a fraction (default 0.05)
  --default-max-tokens N   output length without max_tokens (default: random 16..128)
  --legacy-kv-metric       also publish vllm:gpu_cache_usage_perc
  --runner KIND            generate (chat, completions, responses, messages,
                           transcriptions) or pooling (embeddings, score, rerank)
                           (default generate)
  --embedding-size N       pooling model's vector length (default 384)
  --max-stored-responses N responses kept for previous_response_id (default 1000)
  --kv-events-config JSON  publish KV-cache events as vLLM does, e.g.
                           '{"enable_kv_cache_events":true,"publisher":"zmq","endpoint":"tcp://*:5557","topic":"kv@10.0.0.5@m"}'
  -h, --help               show this help
`;

function fail(message: string): never {
  console.error(`error: ${message}\n\n${HELP}`);
  process.exit(2);
}

function num(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) fail(`--${flag} expects a number, got "${value}"`);
  return n;
}

async function main(): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    const str = { type: "string" } as const;
    ({ values } = parseArgs({
      options: {
        port: str,
        host: str,
        model: str,
        lora: str,
        "max-loras": str,
        "max-num-seqs": str,
        "block-size": str,
        "num-gpu-blocks": str,
        "max-model-len": str,
        "time-scale": str,
        "inter-token-ms": str,
        "prefill-ms-per-token": str,
        "prefill-overhead-ms": str,
        "time-factor-max": str,
        jitter: str,
        "default-max-tokens": str,
        "legacy-kv-metric": { type: "boolean" },
        runner: str,
        "embedding-size": str,
        "max-stored-responses": str,
        "kv-events-config": str,
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    console.log(HELP);
    return;
  }
  const s = (k: string) => values[k] as string | undefined;
  const model = s("model");
  if (!model) fail("--model is required");
  const opts: SimulatorOptions = { model, legacyKvMetric: values["legacy-kv-metric"] === true };
  const lora = s("lora");
  if (lora)
    opts.loras = lora
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean);
  const numeric: Array<[string, keyof SimulatorOptions]> = [
    ["max-loras", "maxLoras"],
    ["max-num-seqs", "maxNumSeqs"],
    ["block-size", "blockSize"],
    ["num-gpu-blocks", "numGpuBlocks"],
    ["max-model-len", "maxModelLen"],
    ["time-scale", "timeScale"],
    ["inter-token-ms", "interTokenMs"],
    ["prefill-ms-per-token", "prefillMsPerToken"],
    ["prefill-overhead-ms", "prefillOverheadMs"],
    ["time-factor-max", "timeFactorMax"],
    ["jitter", "jitter"],
    ["default-max-tokens", "defaultMaxTokens"],
    ["embedding-size", "embeddingSize"],
    ["max-stored-responses", "maxStoredResponses"],
  ];
  for (const [flag, key] of numeric) {
    const n = num(flag, s(flag));
    if (n !== undefined) (opts as unknown as Record<string, number>)[key] = n;
  }
  const kvEvents = s("kv-events-config");
  if (kvEvents !== undefined) {
    try {
      opts.kvEventsConfig = JSON.parse(kvEvents);
    } catch {
      fail(`--kv-events-config expects JSON, got ${JSON.stringify(kvEvents)}`);
    }
  }
  const runner = s("runner");
  if (runner !== undefined) {
    if (runner !== "generate" && runner !== "pooling")
      fail(`--runner expects generate or pooling, got "${runner}"`);
    opts.runner = runner;
  }
  const port = num("port", s("port")) ?? 8000;
  const hostname = s("host") ?? "0.0.0.0";

  const serve: ServeFn =
    typeof Bun !== "undefined"
      ? (await import("../runtime/serve-bun.ts")).serveBun
      : (await import("../runtime/serve-node.ts")).serveNode;
  let running: Awaited<ReturnType<typeof startSimulators>>;
  try {
    running = await startSimulators(serve, [{ ...opts, port, hostname }]);
  } catch (err) {
    fail((err as Error).message);
  }
  const [sim] = running;
  console.log(
    `vLLM simulator serving ${[model, ...(opts.loras ?? [])].join(", ")} on http://${hostname}:${sim!.port}`,
  );
  const stop = () => {
    void sim!.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

await main();
