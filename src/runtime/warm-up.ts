/**
 * Start-up warm-up: synthetic requests through a throwaway gateway before the real one
 * listens, so the first users after a start (every rollout, every scale-up) get the request
 * path compiled instead of paying for its compilation.
 *
 * Why: Bun's and V8's optimising compilers take a function through the interpreter and two or
 * three tiers as it runs; the gateway's request path is some hundreds of functions and is
 * done compiling only after ~15-20k requests (docs/next-steps.md, "Warm-up is counted in
 * requests"). Until then a request costs several times what it costs warm, and a scheduling
 * decision at 64 endpoints and 32k characters has a p99 of 0.2-1.2 ms against ~0.1 warm.
 *
 * How: compiled code belongs to the functions, not to a gateway, so warming another gateway
 * of the same code warms this one. The throwaway gateway has the default scheduling profile,
 * four endpoints on in-process pods (warm-up-pod.ts, prebuilt answers), its own metrics
 * registry and a request log written nowhere; it is served by the runtime's own server on a
 * loopback port (so the entry's request and answer code is warmed too) and sent a mix of
 * requests by the runtime's fetch: small chat and text completions, streams, a 30 KiB prompt
 * repeated and long prompts that share nothing. Nothing of it touches the real gateway: not
 * its metrics, its prefix index, its pods or its log. It is stopped and dropped before the
 * real gateway listens; a failure is logged and start-up goes on.
 *
 * Opt-in (`warmUpMs`, GATEWAY_WARMUP_MS), because of what it costs after: a second gateway
 * in the process means the compiler sees two of every per-gateway object and closure where
 * it saw one, so it redoes the code once the real gateway's requests come (the seconds after
 * the warm-up cost more) and may keep it more general (a few per cent at steady state in two
 * runs of three). Figures: docs/runtimes.md, "Start-up warm-up". Warming the real gateway's
 * own objects (a warm-up pool put in and taken out by the reload path) would not pay that.
 */
import { parseConfig } from "../config/load.ts";
import type { FetchFn } from "../deps.ts";
import { createGateway, type Gateway } from "../gateway.ts";
import { createLogger, type Logger } from "../log.ts";
import type { Later } from "../observability/after-answer.ts";
import type { DirectStreams } from "../proxy/relay.ts";
import type { RunningServer, ServeFn } from "./server.ts";
import { WARM_MODEL, warmUpPod } from "./warm-up-pod.ts";

export interface WarmUpOptions {
  serve: ServeFn;
  /** How long to keep sending requests (ms). */
  budgetMs: number;
  /** The pod client the real gateway uses (the entry's); the runtime's fetch when absent. */
  upstream?: FetchFn;
  directStreams?: DirectStreams;
  /** Where the warm-up says what it did (the real gateway's logger). */
  logger: Logger;
  /** How the real gateway defers its records after an answer (the entry's `setImmediate`): the same for the throwaway one. */
  afterAnswer?: Later;
  /** How long past the budget a request may still take before it is abandoned (ms, default 2000). */
  graceMs?: number;
  /** Requests in flight at once (default 8). */
  concurrency?: number;
  /** The client that sends the synthetic requests (default: the runtime's fetch). */
  client?: (url: string, init: RequestInit) => Promise<Response>;
}

export interface WarmUpResult {
  requests: number;
  failed: number;
  ms: number;
}

const PODS = 4;
const encoder = new TextEncoder();

/** The warm-up gateway's config: the default profile over the warm-up pods, its log at info. */
function warmConfig(ports: readonly number[]) {
  return parseConfig(
    [
      "apiVersion: gateway.inference.dev/v1alpha1",
      "kind: GatewayConfig",
      "logLevel: info",
      "endpoints:",
      ...ports.map((p, i) => `  - { name: warm-${i}, address: "127.0.0.1:${p}", models: [${WARM_MODEL}] }`),
      "",
    ].join("\n"),
    "(start-up warm-up)",
  );
}

/** Filler text: `n` characters, different for each `seed` from its first block on. */
function text(n: number, seed: number): string {
  const head = `Request ${seed}: `;
  let out = head;
  const words = ["the", "pod", "cache", "block", "prefix", "token", "model", "queue"];
  for (let i = 0; out.length < n; i++) out += `${words[(i * 7 + seed) % words.length]} `;
  return out.slice(0, n);
}

/** The 30 KiB prompt every long-prompt request repeats: made on a warm-up's first use, not at import. */
let sharedLong: string | undefined;

/** The i-th synthetic request's path and body: mostly small and streamed, some long prompts. */
function request(i: number): { path: string; body: string } {
  const slot = i % 16;
  const chat = (content: string, extra = "") =>
    `{"model":"${WARM_MODEL}","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":${JSON.stringify(content)}}]${extra}}`;
  if (slot < 6) return { path: "/v1/chat/completions", body: chat("Say hello in one word.") };
  if (slot < 10) return { path: "/v1/chat/completions", body: chat("Count to twenty.", ',"stream":true') };
  if (slot === 10)
    return {
      path: "/v1/chat/completions",
      body: chat("Count.", ',"stream":true,"stream_options":{"include_usage":true}'),
    };
  if (slot === 11)
    return {
      path: "/v1/completions",
      body: `{"model":"${WARM_MODEL}","prompt":"Once upon a time","max_tokens":8}`,
    };
  if (slot === 12)
    return {
      path: "/v1/completions",
      body: `{"model":"${WARM_MODEL}","prompt":"Once upon a time","max_tokens":8,"stream":true}`,
    };
  if (slot < 15) {
    sharedLong ??= text(30 * 1024, -1);
    return { path: "/v1/chat/completions", body: chat(sharedLong) };
  }
  return { path: "/v1/chat/completions", body: chat(text(16 * 1024, i)) };
}

/** Runs the warm-up; never throws (a failure is logged, start-up goes on). */
export async function warmUp(opts: WarmUpOptions): Promise<WarmUpResult> {
  const started = performance.now();
  const result: WarmUpResult = { requests: 0, failed: 0, ms: 0 };
  if (!(opts.budgetMs > 0)) return result;
  const pods: RunningServer[] = [];
  let gateway: Gateway | undefined;
  let server: RunningServer | undefined;
  const late = new AbortController();
  let cut: ReturnType<typeof setTimeout> | undefined;
  try {
    for (let i = 0; i < PODS; i++)
      pods.push(await opts.serve({ fetch: warmUpPod(), port: 0, hostname: "127.0.0.1" }));
    gateway = createGateway({
      config: warmConfig(pods.map((p) => p.port)),
      // The request log is built and handed to a writer that drops it: the line's code warms, nothing is written.
      logger: createLogger("info", () => {}),
      ...(opts.upstream ? { fetch: opts.upstream } : {}),
      ...(opts.directStreams ? { directStreams: opts.directStreams } : {}),
    });
    if (opts.afterAnswer) gateway.deps.afterAnswer.defer(opts.afterAnswer);
    gateway.start();
    server = await opts.serve({ fetch: gateway.fetch, port: 0, hostname: "127.0.0.1" });
    const base = `http://127.0.0.1:${server.port}`;
    const client = opts.client ?? ((url: string, init: RequestInit) => fetch(url, init));
    const deadline = started + opts.budgetMs;
    // A request still out this long after the budget is abandoned: a warm-up never holds start-up.
    cut = setTimeout(
      () => late.abort(new Error("a warm-up request outlived its budget")),
      opts.budgetMs + (opts.graceMs ?? 2000),
    );
    let next = 0;
    const loop = async () => {
      while (performance.now() < deadline) {
        const { path, body } = request(next++);
        try {
          const res = await client(`${base}${path}`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: encoder.encode(body),
            signal: late.signal,
          });
          await res.arrayBuffer();
          if (res.ok) result.requests++;
          else result.failed++;
        } catch {
          result.failed++;
        }
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, loop));
  } catch (err) {
    opts.logger.warn("start-up warm-up failed; starting without it", { error: (err as Error).message });
  } finally {
    clearTimeout(cut);
    await server?.close().catch(() => {});
    await gateway?.stop().catch(() => {});
    await Promise.all(pods.map((p) => p.close().catch(() => {})));
  }
  result.ms = Math.round(performance.now() - started);
  return result;
}
