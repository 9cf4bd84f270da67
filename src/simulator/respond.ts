/**
 * Bridges the engine to HTTP responses. Streaming responses flush one SSE frame per
 * token as the engine produces it; the client's AbortSignal and the stream's cancel()
 * both cancel the engine request at once (slot and KV blocks freed, counted as aborted).
 */
import type { Engine } from "./engine.ts";
import { SimError } from "./errors.ts";
import { chunkBuilder, completionBody, newHead, SSE_DONE, sseFrame } from "./openai-format.ts";
import type { ParsedRequest } from "./parse.ts";
import type { AbortReason, GenerationRequest, GenerationResult, GenerationSink } from "./types.ts";

export interface RespondOptions {
  engine: Engine;
  request: ParsedRequest;
  signal: AbortSignal;
  /** Fault injection: break the response after this many tokens. */
  breakAfterTokens: number | undefined;
}

function submit(o: RespondOptions, sink: GenerationSink): () => void {
  const p = o.request;
  const req: GenerationRequest = {
    adapter: p.adapter,
    prompt: p.prompt,
    promptTokens: p.promptTokens,
    outputTokens: p.outputTokens,
    finishReason: p.finishReason,
    sink,
  };
  if (o.breakAfterTokens !== undefined) req.breakAfterTokens = o.breakAfterTokens;
  const cancel = o.engine.submit(req);
  if (o.signal.aborted) cancel();
  else o.signal.addEventListener("abort", cancel, { once: true });
  return () => {
    o.signal.removeEventListener("abort", cancel);
    cancel();
  };
}

function abortError(reason: AbortReason): Error {
  if (reason === "closed") return new SimError(503, "The simulator was closed while serving the request.");
  if (reason === "fault") return new Error("injected fault: response broken");
  return new SimError(499, "Client closed the request.");
}

export function streamResponse(o: RespondOptions): Response {
  const p = o.request;
  const chunks = chunkBuilder(newHead(p.api, p.model), p.includeUsage);
  let release: (() => void) | undefined;
  let done = false;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (data: unknown) => {
        if (!done) controller.enqueue(sseFrame(data));
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
      release = submit(o, {
        onToken(i) {
          if (i === 0 && p.api === "chat") send(chunks.role());
          send(chunks.token(i, i === p.outputTokens - 1 ? p.finishReason : null));
        },
        onFinish(r) {
          if (p.includeUsage) send(chunks.usage(r));
          send(SSE_DONE);
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

export async function jsonResponse(o: RespondOptions): Promise<Response> {
  const p = o.request;
  const head = newHead(p.api, p.model);
  let release: (() => void) | undefined;
  const outcome = await new Promise<GenerationResult | AbortReason>((resolve) => {
    release = submit(o, { onToken() {}, onFinish: resolve, onAbort: resolve });
  });
  release?.();
  if (typeof outcome !== "string") return Response.json(completionBody(head, outcome));
  if (outcome !== "fault") throw abortError(outcome);
  // A broken connection: headers sent, body cut short.
  const partial = new TextEncoder().encode(`{"id":"${head.id}","object":`);
  const broken = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(partial);
      controller.error(abortError("fault"));
    },
  });
  return new Response(broken, { headers: { "content-type": "application/json" } });
}
