import type { Context } from "hono";
import { type SetTimer, systemTimer } from "../clock.ts";
import type { GatewayEnv } from "../env.ts";
import { GatewayError } from "../errors.ts";

/**
 * A rule's `timeouts.request`: the whole request, stream included, as Envoy's route timeout.
 * The client signal the later stages read is made to abort when it passes (so the pod's or
 * backend's request is cancelled); `timedOut` then turns what they made of the abort (a 499)
 * into a 504. The timer ends with the request.
 */
export class Deadline {
  private fired = false;

  constructor(
    private readonly c: Context<GatewayEnv>,
    private readonly ms: number,
    setTimer: SetTimer = systemTimer,
  ) {
    const controller = new AbortController();
    const cancel = setTimer(() => {
      this.fired = true;
      controller.abort(new Error("route timeout"));
    }, ms);
    c.get("scope").hold({ release: cancel });
    const raw = c.req.raw;
    c.req.raw = new Request(raw.url, {
      method: raw.method,
      headers: raw.headers,
      signal: AbortSignal.any([raw.signal, controller.signal]),
    });
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

  /** After the stages: a request the deadline cut before any byte answers 504. */
  settle(): void {
    const c = this.c;
    if (!this.fired || c.get("scope").streaming) return;
    if (c.error instanceof GatewayError && c.error.status !== 499) return;
    c.error = undefined;
    c.res = undefined;
    c.res = new Response(JSON.stringify(this.error()), {
      status: 504,
      headers: { "content-type": "application/json" },
    });
  }
}
