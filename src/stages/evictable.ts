import type { GatewayError } from "../errors.ts";
import { sseErrorEvent } from "../proxy/relay.ts";
import type { Exchange } from "./exchange.ts";

/**
 * How the admit stage ends a request flow control evicts after admission
 * (`flowControl.enableEviction`, negative priorities only). Before the answer starts, the
 * forward stage's client signal aborts, which aborts the pod's request, and the client
 * gets the eviction error (429 `evicted`). During a stream, the client gets an SSE error
 * event and the stream ends; cancelling the relayed body aborts the pod's request and
 * ends the request scope, which releases the flow-control slot once. The abort controller
 * is made by `arm`, for the (negative-priority) requests that can be evicted: the others,
 * nearly all, pay for none.
 */
export class Eviction {
  private controller: AbortController | undefined = undefined;
  error: GatewayError | undefined = undefined;

  /** Passed to flow control as `onEvicted`. */
  readonly evict = (err: GatewayError): void => {
    if (this.error) return;
    this.error = err;
    this.controller?.abort(err);
  };

  /**
   * Makes the client signal the forward stage reads (`x.signal`) also abort on eviction
   * (at once when flow control evicted the request before it got here).
   */
  arm(x: Exchange): void {
    const controller = new AbortController();
    this.controller = controller;
    if (this.error) controller.abort(this.error);
    x.signal = AbortSignal.any([x.signal, controller.signal]);
  }

  /**
   * After the forward stage answered `res`: the eviction error (thrown), or a streamed body
   * that ends on eviction.
   */
  settle(x: Exchange, res: Response): Response {
    if (this.error) {
      // Evicted before the answer went out: whatever the forward stage made of the abort is
      // replaced. A relayed stream not read yet is cancelled, which ends the scope (slot released).
      res.body?.cancel().catch(() => {});
      throw this.error;
    }
    if (!res.body || !x.scope.streaming) return res;
    const controller = this.controller ?? new AbortController();
    return new Response(endsOnEviction(res.body, controller.signal), res);
  }
}

function endsOnEviction(body: ReadableStream<Uint8Array>, signal: AbortSignal): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let done = false;
  let onAbort = () => {};
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        onAbort = () => {
          if (done) return;
          done = true;
          const err = signal.reason as GatewayError;
          controller.enqueue(sseErrorEvent(err.message, "evicted"));
          controller.close();
          void reader.cancel(err).catch(() => {});
        };
        signal.addEventListener("abort", onAbort, { once: true });
      },
      async pull(controller) {
        const r = await reader.read();
        if (done) return;
        if (r.done) {
          done = true;
          signal.removeEventListener("abort", onAbort);
          controller.close();
          return;
        }
        controller.enqueue(r.value);
      },
      cancel(reason) {
        done = true;
        signal.removeEventListener("abort", onAbort);
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
