/**
 * Driving a gateway app in process (no HTTP): the in-process benchmarks (hono-chain,
 * node-path-chain, body-micro, core-census, core-census-split, core-gc) share these so each
 * measures the same way.
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";

/** Anything with a web-standard `fetch`: a Hono app, the gateway's `fetch`. */
export interface FetchApp {
  fetch(request: Request): Response | Promise<Response>;
}

/** A small chat completion's bytes, as a pod answers the benchmarks' JSON requests. */
export const COMPLETION = new TextEncoder().encode(
  JSON.stringify({
    id: "cmpl-1",
    object: "chat.completion",
    model: "m",
    choices: [{ index: 0, message: { role: "assistant", content: "Hi" }, finish_reason: "stop" }],
    usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
  }),
);

/** The pod's answer to one call: `COMPLETION` as JSON. */
export const completionAnswer = (): Response =>
  new Response(COMPLETION, { headers: { "content-type": "application/json" } });

export interface GatewayAtOptions {
  /** Endpoints (pods of model `m` on unused ports; the fetch seam answers for them). Default 4. */
  endpoints?: number;
  /** The endpoints' addresses instead (real pods the `fetch` given calls). */
  addresses?: readonly string[];
  /** The log level; the log line is built and serialised as in production, then dropped. */
  level?: "info" | "silent";
  /** Where log lines go instead of being dropped (e.g. the logger's own default writer). */
  toStdout?: boolean;
  /** The pod calls' fetch seam; default: `completionAnswer()` at once. */
  fetch?: (input: unknown, init?: unknown) => Promise<Response>;
  /** Streams relayed as the Bun entry relays them (Bun's direct streams). */
  directStreams?: boolean;
}

/**
 * The real gateway of the checkout at `root` (this one, or a worktree of an earlier tree run
 * beside it), in process, with the default profile, metrics and the log line on.
 */
/** The config text `gatewayAt` builds its gateway from (a reload of it is the same config). */
export function gatewayYaml(options: GatewayAtOptions = {}): string {
  return [
    "apiVersion: gateway.inference.dev/v1alpha1",
    "kind: GatewayConfig",
    `logLevel: ${options.level ?? "info"}`,
    "endpoints:",
    ...(
      options.addresses ?? Array.from({ length: options.endpoints ?? 4 }, (_, i) => `127.0.0.1:${i + 1}`)
    ).map((address, i) => `  - { name: pod-${i}, address: "${address}", models: [m] }`),
  ].join("\n");
}

export async function gatewayAt(root: string, options: GatewayAtOptions = {}): Promise<FetchApp> {
  const { createGateway } = await import(resolve(root, "src/gateway.ts"));
  const { parseConfig } = await import(resolve(root, "src/config/load.ts"));
  const { createLogger } = await import(resolve(root, "src/log.ts"));
  const level = options.level ?? "info";
  return createGateway({
    config: parseConfig(gatewayYaml(options), "bench.yaml"),
    logger: options.toStdout ? createLogger(level) : createLogger(level, () => {}),
    fetch: options.fetch ?? (async () => completionAnswer()),
    directStreams: options.directStreams,
  }) as FetchApp;
}

/** A chat-completions POST of `body` (a JSON string), as a client sends it. */
export function chatRequest(body: string): Request {
  return new Request("http://gw/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json", "content-length": String(body.length) },
    body,
  });
}

/**
 * `n` requests made by `send`, `concurrency` at a time; the process CPU µs each cost
 * (utime + stime over the batch ÷ n), or the wall-clock µs each with `wall`.
 */
export async function perRequest(
  send: () => Promise<void>,
  n: number,
  concurrency: number,
  wall = false,
): Promise<number> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const one = async (k: number) => {
    for (let i = 0; i < k; i++) await send();
  };
  await Promise.all(Array.from({ length: concurrency }, () => one(Math.ceil(n / concurrency))));
  if (wall) return ((performance.now() - t0) * 1000) / n;
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}

/** One chat request of `body` through `app`, answered 200 and read whole (throws otherwise). */
export async function postChat(app: FetchApp, body: string): Promise<void> {
  const res = await app.fetch(chatRequest(body));
  if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
}

/**
 * Each app once to warm up, then `rounds` rounds of every app, every other round in reverse
 * order (what one leaves to the collector is not always paid by the same next one).
 */
export async function alternatingRounds<A>(
  apps: Record<string, A>,
  rounds: number,
  run: (app: A) => Promise<number>,
): Promise<Record<string, number[]>> {
  const results: Record<string, number[]> = Object.fromEntries(Object.keys(apps).map((k) => [k, []]));
  for (const app of Object.values(apps)) await run(app);
  for (let round = 0; round < rounds; round++) {
    const order = Object.entries(apps);
    if (round % 2 === 1) order.reverse();
    for (const [name, app] of order) results[name]!.push(await run(app));
  }
  return results;
}

/**
 * `head` against `base` from alternatingRounds' results, as one line: each one's median µs,
 * the median of the paired differences, and in how many rounds head was lower.
 */
export function pairedLine(label: string, results: Record<string, number[]>, n: number): string {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const head = results["head"]!;
  const base = results["base"]!;
  const diffs = head.map((h, i) => h - base[i]!);
  return (
    `${label}, ${head.length} rounds of ${n}: head ${median(head).toFixed(2)} µs, ` +
    `base ${median(base).toFixed(2)} µs, median paired diff ${median(diffs).toFixed(2)} ` +
    `(head lower in ${diffs.filter((d) => d < 0).length}/${head.length}; diffs ${diffs.map((d) => d.toFixed(1)).join(" ")})`
  );
}

/**
 * The mock pod of the in-process benchmarks on the wire client (bench/overhead/upstream.ts,
 * `count` ports in one child process), stopped when this process exits: its ports.
 */
export async function mockPodPorts(count = 2): Promise<number[]> {
  const upstream = resolve(import.meta.dirname ?? ".", "../overhead/upstream.ts");
  const pod = spawn(process.execPath, [upstream, "--ports", Array(count).fill("0").join(",")], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  process.on("exit", () => pod.kill());
  return await new Promise((ok) => {
    let buf = "";
    pod.stdout!.on("data", (d: Buffer) => {
      buf += d;
      const nl = buf.indexOf("\n");
      if (nl >= 0) ok((JSON.parse(buf.slice(0, nl)) as { ports: number[] }).ports);
    });
  });
}
