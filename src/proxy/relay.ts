import type { Outcome } from "../scope.ts";

const encoder = new TextEncoder();

/** The SSE event a client sees when the upstream stream breaks: the openai client raises it as an APIError. */
export function sseErrorEvent(message: string): Uint8Array {
  const body = { error: { message, type: "server_error", param: null, code: "upstream_stream_error" } };
  return encoder.encode(`data: ${JSON.stringify(body)}\n\n`);
}

export interface RelayOptions {
  /** Called exactly once: the body ended, broke, or the client cancelled. */
  onEnd(outcome: Outcome): void;
  /** Aborts the upstream request (client went away). */
  abortUpstream(): void;
  /** For SSE: end a broken stream with an error event instead of a bare cut. */
  sse: boolean;
  /** Sees every chunk as it passes (accounting); must not keep or alter it. */
  tap?: (chunk: Uint8Array) => void;
}

/**
 * Pull-based pass-through of an upstream body: reads one chunk only when the client
 * wants one (backpressure reaches the pod), never buffers, and ends exactly once.
 */
export function relay(upstream: ReadableStream<Uint8Array>, opts: RelayOptions): ReadableStream<Uint8Array> {
  const reader = upstream.getReader();
  let ended = false;
  const end = (outcome: Outcome) => {
    if (ended) return;
    ended = true;
    opts.onEnd(outcome);
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            controller.close();
            end("success");
            return;
          }
          opts.tap?.(value);
          controller.enqueue(value);
        } catch (err) {
          if (ended) return; // cancelled by the client meanwhile
          if (opts.sse) {
            controller.enqueue(sseErrorEvent(`The model server's stream broke: ${describe(err)}`));
            controller.close();
          } else {
            controller.error(err);
          }
          end("error");
        }
      },
      cancel(reason) {
        end("aborted");
        opts.abortUpstream();
        return reader.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
