import type { Outcome } from "../scope.ts";

const encoder = new TextEncoder();

/** The SSE event a client sees when the upstream stream breaks: the openai client raises it as an APIError. */
export function sseErrorEvent(message: string): Uint8Array {
  const body = { error: { message, type: "server_error", param: null, code: "upstream_stream_error" } };
  return encoder.encode(`data: ${JSON.stringify(body)}\n\n`);
}

/** Sees every chunk on its way (accounting); may hold back or drop bytes, never delays a whole stream. */
export interface Tap {
  /** Returns the bytes to send for this chunk (undefined: nothing now). */
  chunk(bytes: Uint8Array): Uint8Array | undefined;
  /** End of the body: anything held back. */
  flush(): Uint8Array | undefined;
}

export interface RelayOptions {
  /** Called exactly once: the body ended, broke, or the client cancelled. */
  onEnd(outcome: Outcome, detail?: string): void;
  /** Aborts the upstream request (client went away, idle timeout). */
  abortUpstream(reason: string): void;
  /** For SSE: end a broken stream with an error event instead of a bare cut. */
  sse: boolean;
  tap?: Tap;
  /** Longest wait for the next upstream chunk; only runs while the client is waiting. */
  idleTimeoutMs?: number;
}

class IdleTimeout extends Error {
  constructor(ms: number) {
    super(`no data from the model server for ${ms} ms`);
  }
}

/**
 * One timer per stream (not one per chunk): it only counts while a read is pending, so
 * a slow client is never taken for a silent pod. When it fires it cancels the reader,
 * which ends the pending read; `fired` tells the reader why.
 */
function idleWatch(ms: number, reader: ReadableStreamDefaultReader<Uint8Array>) {
  let since: number | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const state = {
    fired: false,
    waiting(on: boolean) {
      since = on ? performance.now() : undefined;
      if (on && timer === undefined) timer = setTimeout(check, ms);
    },
    stop() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
  function check() {
    timer = undefined;
    if (since === undefined) return; // not waiting: re-armed by the next read
    const waited = performance.now() - since;
    if (waited >= ms) {
      state.fired = true;
      void reader.cancel(new IdleTimeout(ms)).catch(() => {});
    } else {
      timer = setTimeout(check, ms - waited);
    }
  }
  return state;
}

/**
 * Pull-based pass-through of an upstream body: reads one chunk only when the client
 * wants one (backpressure reaches the pod), never buffers, and ends exactly once.
 */
export function relay(upstream: ReadableStream<Uint8Array>, opts: RelayOptions): ReadableStream<Uint8Array> {
  const reader = upstream.getReader();
  let ended = false;
  const idle = opts.idleTimeoutMs ? idleWatch(opts.idleTimeoutMs, reader) : undefined;
  const end = (outcome: Outcome, detail?: string) => {
    if (ended) return;
    ended = true;
    idle?.stop();
    opts.onEnd(outcome, detail);
  };
  const read = async () => {
    if (!idle) return reader.read();
    idle.waiting(true);
    try {
      const r = await reader.read();
      if (idle.fired) throw new IdleTimeout(opts.idleTimeoutMs!);
      return r;
    } finally {
      idle.waiting(false);
    }
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          for (;;) {
            const { done, value } = await read();
            if (done) {
              const rest = opts.tap?.flush();
              if (rest) controller.enqueue(rest);
              controller.close();
              end("success");
              return;
            }
            const out = opts.tap ? opts.tap.chunk(value) : value;
            if (out?.byteLength) {
              controller.enqueue(out);
              return;
            }
          }
        } catch (err) {
          if (ended) return; // cancelled by the client meanwhile
          const message = err instanceof Error ? err.message : String(err);
          if (err instanceof IdleTimeout) opts.abortUpstream(message);
          if (opts.sse) {
            controller.enqueue(sseErrorEvent(`The model server's stream broke: ${message}`));
            controller.close();
          } else {
            controller.error(err);
          }
          end("error", message);
        }
      },
      cancel(reason) {
        end("aborted");
        opts.abortUpstream("client disconnected");
        return reader.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
}
