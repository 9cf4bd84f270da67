/**
 * Bridges the engine to HTTP responses, for every route. Streaming responses flush
 * frames as the engine produces tokens; the client's AbortSignal and the stream's
 * cancel() both cancel the engine request at once (slot and KV blocks freed, counted as
 * aborted). Each route brings its own wire format through small builder callbacks.
 */
import type { Engine } from "./engine.ts";
import { SimError } from "./errors.ts";
import { chunkBuilder, completionBody, newHead, SSE_DONE, sseFrame } from "./openai-format.ts";
import type { ParsedRequest } from "./parse.ts";
import type { AbortReason, GenerationRequest, GenerationResult, GenerationSink } from "./types.ts";

/** What the engine runs for one request: the planned prompt and output. */
export type Plan = Pick<
  GenerationRequest,
  "adapter" | "prompt" | "promptTokens" | "outputTokens" | "finishReason"
>;

/** Where and how a request runs: the engine, the client's signal, an injected fault. */
export interface RunContext {
  engine: Engine;
  signal: AbortSignal;
  /** Fault injection: break the response after this many tokens. */
  breakAfterTokens: number | undefined;
}

export interface RespondOptions extends RunContext {
  request: ParsedRequest;
}

/** Queues `plan` on the engine; the returned function releases it (cancels if still running). */
export function submit(run: RunContext, plan: Plan, sink: GenerationSink): () => void {
  const req: GenerationRequest = {
    adapter: plan.adapter,
    prompt: plan.prompt,
    promptTokens: plan.promptTokens,
    outputTokens: plan.outputTokens,
    finishReason: plan.finishReason,
    sink,
  };
  if (run.breakAfterTokens !== undefined) req.breakAfterTokens = run.breakAfterTokens;
  const cancel = run.engine.submit(req);
  if (run.signal.aborted) cancel();
  else run.signal.addEventListener("abort", cancel, { once: true });
  return () => {
    run.signal.removeEventListener("abort", cancel);
    cancel();
  };
}

export function abortError(reason: AbortReason): Error {
  if (reason === "closed") return new SimError(503, "The simulator was closed while serving the request.");
  if (reason === "fault") return new Error("injected fault: response broken");
  return new SimError(499, "Client closed the request.");
}

/** Frames of one streamed response, built by the route: each returns the bytes to send. */
export interface StreamFrames {
  /** Sent before the engine runs (e.g. `response.created`, `message_start`). */
  start?(): Uint8Array[];
  token(index: number): Uint8Array[];
  finish(result: GenerationResult): Uint8Array[];
}

/** An SSE response fed by one engine request. */
export function eventStream(run: RunContext, plan: Plan, frames: StreamFrames): Response {
  let release: (() => void) | undefined;
  let done = false;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (chunks: Uint8Array[]) => {
        if (!done) for (const c of chunks) controller.enqueue(c);
      };
      const end = (error?: Error) => {
        if (done) return;
        done = true;
        release?.();
        if (error) controller.error(error);
        else controller.close();
      };
      // The client left (its signal aborted): nobody reads this body any more. Erroring it
      // would only make the server (Node's, Deno's) log a stack trace per abandoned stream.
      const quietEnd = () => {
        if (done) return;
        done = true;
        release?.();
        try {
          controller.close();
        } catch {
          // already closed or cancelled by the server
        }
      };
      if (frames.start) send(frames.start());
      release = submit(run, plan, {
        onToken: (i) => send(frames.token(i)),
        onFinish(r) {
          send(frames.finish(r));
          end();
        },
        onAbort: (reason) => (reason === "cancelled" ? quietEnd() : end(abortError(reason))),
      });
    },
    cancel() {
      done = true;
      release?.();
    },
  });
  return new Response(body, {
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" },
  });
}

/** Runs `plans` side by side on the engine (one engine request each, as vLLM runs a batch input) and waits for all. */
export async function runAll(run: RunContext, plans: readonly Plan[]): Promise<GenerationResult[] | "fault"> {
  const releases: Array<() => void> = [];
  const outcomes = plans.map(
    (plan) =>
      new Promise<GenerationResult | AbortReason>((resolve) => {
        releases.push(submit(run, plan, { onToken() {}, onFinish: resolve, onAbort: resolve }));
      }),
  );
  const results: GenerationResult[] = [];
  try {
    for (const outcome of outcomes) {
      const r = await outcome;
      if (r === "fault") return r;
      if (typeof r === "string") throw abortError(r);
      results.push(r);
    }
  } finally {
    for (const release of releases) release();
  }
  return results;
}

/** A broken connection: headers sent, the JSON body cut short (an injected fault). */
export function brokenJson(prefix: string): Response {
  const partial = new TextEncoder().encode(prefix);
  const broken = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(partial);
      controller.error(abortError("fault"));
    },
  });
  return new Response(broken, { headers: { "content-type": "application/json" } });
}

/** Runs one plan to the end and answers `build(result)` as JSON. */
export async function jsonOf(run: RunContext, plan: Plan, build: (r: GenerationResult) => unknown) {
  const outcome = await runAll(run, [plan]);
  if (outcome === "fault") return brokenJson('{"id":"');
  return Response.json(build(outcome[0]!));
}

/** Chat and text completions, streamed (OpenAI SSE closed by `[DONE]`). */
export function streamResponse(o: RespondOptions): Response {
  const p = o.request;
  const chunks = chunkBuilder(newHead(p.api, p.model), p.includeUsage);
  return eventStream(o, p, {
    token: (i) => [
      ...(i === 0 && p.api === "chat" ? [sseFrame(chunks.role())] : []),
      sseFrame(chunks.token(i, i === p.outputTokens - 1 ? p.finishReason : null)),
    ],
    finish: (r) => [...(p.includeUsage ? [sseFrame(chunks.usage(r))] : []), sseFrame(SSE_DONE)],
  });
}

/** Chat and text completions as one JSON body. */
export async function jsonResponse(o: RespondOptions): Promise<Response> {
  const head = newHead(o.request.api, o.request.model);
  const outcome = await runAll(o, [o.request]);
  if (outcome === "fault") return brokenJson(`{"id":"${head.id}","object":`);
  return Response.json(completionBody(head, outcome[0]!));
}
