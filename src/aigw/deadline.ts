import { type SetTimer, systemTimer } from "../clock.ts";
import { GatewayError } from "../errors.ts";
import type { Exchange } from "../stages/exchange.ts";

/**
 * A rule's `timeouts.request`: the whole request, stream included, as Envoy's route timeout.
 * The client signal the later stages read (`x.signal`) is made to abort when it passes (so
 * the pod's or backend's request is cancelled); `settle` then turns what they made of the
 * abort (a 499) into a 504. The timer ends with the request.
 */
export class Deadline {
  private fired = false;

  constructor(
    x: Exchange,
    private readonly ms: number,
    setTimer: SetTimer = systemTimer,
  ) {
    const controller = new AbortController();
    const cancel = setTimer(() => {
      this.fired = true;
      controller.abort(new Error("route timeout"));
    }, ms);
    x.scope.hold({ release: cancel });
    x.signal = AbortSignal.any([x.signal, controller.signal]);
  }

  get passed(): boolean {
    return this.fired;
  }

  error(): GatewayError {
    return new GatewayError({
      status: 504,
      message: `The request took longer than its route rule's timeouts.request (${this.ms} ms); raise it, or retry.`,
      code: "route_timeout",
    });
  }

  /**
   * After the pool stages answered `res` (`x.error` being what it was made of, if anything):
   * a request the deadline cut before any byte answers 504 instead.
   */
  settle(x: Exchange, res: Response): Response {
    if (!this.fired || x.scope.streaming) return res;
    if (x.error instanceof GatewayError && x.error.status !== 499) return res;
    x.error = undefined;
    x.servedBy = undefined;
    return new Response(JSON.stringify(this.error()), {
      status: 504,
      headers: { "content-type": "application/json" },
    });
  }
}
