/**
 * A model-server pod with a fixed number of slots, for the flow-control benchmark. Written
 * apart from src/simulator on purpose: its service time does not depend on load, so what
 * the benchmark measures is queueing (where requests wait, and in what order), not the
 * simulator's slowdown curve.
 *
 * Model. At most `slots` requests run at once; the rest wait in one FCFS queue. A request
 * runs for `serviceMs` (× a seeded jitter in [1 - jitter, 1 + jitter]), however many run,
 * then its whole answer is sent. KV-cache usage is running / slots × `kvAtFull`: each slot
 * holds one request's KV blocks, so with `kvAtFull` 1 a pod with every slot busy reports
 * a full cache, as vLLM does when its KV cache is what limits the batch.
 *
 * It speaks enough of vLLM's OpenAI server for the gateway: POST /v1/chat/completions and
 * /v1/completions (JSON, or SSE with one content chunk, a usage chunk when asked, [DONE]),
 * GET /v1/models, /health, and /metrics with `vllm:num_requests_waiting`,
 * `vllm:num_requests_running` and `vllm:kv_cache_usage_perc`. A client that leaves
 * frees its place (queued or running) at once.
 *
 * For the benchmark's figures it integrates its own waiting queue over time
 * (`stats().meanWaiting`, time-weighted) and counts completions.
 */
import { seededRandom } from "../../src/clock.ts";

export interface SlotPodOptions {
  model: string;
  slots: number;
  serviceMs: number;
  /** Relative jitter of the service time, 0..1 (default 0.05). */
  jitter?: number;
  /** KV-cache usage with every slot busy (default 1). */
  kvAtFull?: number;
  seed?: number;
  port?: number;
}

export interface SlotPodStats {
  completed: number;
  /** Time-weighted mean of the waiting queue since the last `resetStats()`. */
  meanWaiting: number;
  maxWaiting: number;
  /** Time-weighted mean of the running requests. */
  meanRunning: number;
}

export interface SlotPod {
  address: string;
  stats(): SlotPodStats;
  resetStats(): void;
  close(): Promise<void>;
}

interface Job {
  start(): void;
  cancel(): void;
}

export async function startSlotPod(opts: SlotPodOptions): Promise<SlotPod> {
  const random = seededRandom(opts.seed ?? 1);
  const jitter = opts.jitter ?? 0.05;
  const kvAtFull = opts.kvAtFull ?? 1;
  const waiting: Job[] = [];
  let running = 0;
  // Time-weighted integrals for the figures.
  let since = performance.now();
  let last = since;
  let waitArea = 0;
  let runArea = 0;
  let maxWaiting = 0;
  let completed = 0;
  const account = () => {
    const now = performance.now();
    waitArea += waiting.length * (now - last);
    runArea += running * (now - last);
    last = now;
  };
  const next = () => {
    account();
    while (running < opts.slots && waiting.length > 0) {
      running++;
      waiting.shift()!.start();
    }
  };

  /** Resolves when the request has been served; rejects when the client left. */
  function serve(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let state: "waiting" | "running" | "done" = "waiting";
      const job: Job = {
        start() {
          state = "running";
          const ms = opts.serviceMs * (1 + jitter * (2 * random() - 1));
          timer = setTimeout(() => {
            state = "done";
            signal.removeEventListener("abort", job.cancel);
            account();
            running--;
            completed++;
            next();
            resolve();
          }, ms);
        },
        cancel() {
          if (state === "done") return;
          account();
          if (state === "running") {
            clearTimeout(timer);
            running--;
          } else waiting.splice(waiting.indexOf(job), 1);
          state = "done";
          next();
          reject(new Error("client left"));
        },
      };
      signal.addEventListener("abort", job.cancel, { once: true });
      account();
      waiting.push(job);
      maxWaiting = Math.max(maxWaiting, waiting.length);
      next();
    });
  }

  const metrics = () =>
    [
      "# TYPE vllm:num_requests_waiting gauge",
      `vllm:num_requests_waiting{model_name="${opts.model}"} ${waiting.length}`,
      "# TYPE vllm:num_requests_running gauge",
      `vllm:num_requests_running{model_name="${opts.model}"} ${running}`,
      "# TYPE vllm:kv_cache_usage_perc gauge",
      `vllm:kv_cache_usage_perc{model_name="${opts.model}"} ${(running / opts.slots) * kvAtFull}`,
      "",
    ].join("\n");

  async function complete(req: Request): Promise<Response> {
    const body = (await req.json().catch(() => null)) as Record<string, unknown> | null;
    if (!body || body["model"] !== opts.model)
      return Response.json(
        { error: { message: `model must be ${opts.model}`, type: "invalid_request_error" } },
        { status: 404 },
      );
    try {
      await serve(req.signal);
    } catch {
      return new Response(null, { status: 499 });
    }
    const usage = { prompt_tokens: 10, completion_tokens: 1, total_tokens: 11 };
    const id = `cmpl-${completed}`;
    if (!body["stream"])
      return Response.json({
        id,
        object: "chat.completion",
        model: opts.model,
        choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
        usage,
      });
    const withUsage = (body["stream_options"] as { include_usage?: boolean } | undefined)?.include_usage;
    const chunk = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
    const sse =
      chunk({
        id,
        object: "chat.completion.chunk",
        model: opts.model,
        choices: [{ index: 0, delta: { content: "ok" }, finish_reason: "stop" }],
      }) +
      (withUsage
        ? chunk({ id, object: "chat.completion.chunk", model: opts.model, choices: [], usage })
        : "") +
      "data: [DONE]\n\n";
    return new Response(sse, { headers: { "content-type": "text/event-stream" } });
  }

  const server = Bun.serve({
    port: opts.port ?? 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (req.method === "POST" && (path === "/v1/chat/completions" || path === "/v1/completions"))
        return complete(req);
      if (path === "/metrics") return new Response(metrics(), { headers: { "content-type": "text/plain" } });
      if (path === "/health") return new Response("ok");
      if (path === "/v1/models")
        return Response.json({
          object: "list",
          data: [{ id: opts.model, object: "model", created: 0, owned_by: "bench" }],
        });
      return new Response("not found", { status: 404 });
    },
  });
  return {
    address: `127.0.0.1:${server.port}`,
    stats() {
      account();
      const span = Math.max(1, last - since);
      return { completed, meanWaiting: waitArea / span, maxWaiting, meanRunning: runArea / span };
    },
    resetStats() {
      account();
      since = last;
      waitArea = 0;
      runArea = 0;
      maxWaiting = waiting.length;
      completed = 0;
    },
    async close() {
      await server.stop(true);
    },
  };
}
