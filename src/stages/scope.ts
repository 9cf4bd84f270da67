import type { Context, MiddlewareHandler } from "hono";
import type { Clock } from "../clock.ts";
import type { GatewayEnv } from "../env.ts";
import { GatewayError } from "../errors.ts";
import type { GatewayMetrics } from "../metrics/gateway-metrics.ts";
import { type Outcome, RequestScope } from "../scope.ts";

/**
 * Opens the request's scope. When the chain returns without a live stream (an error,
 * an empty body), the scope ends here; a live stream ends it itself when the body
 * finishes, breaks or is cancelled by the client. Request metrics are recorded at
 * that one end.
 */
export function scope(deps: {
  clock: Clock;
  lifecycle: { shuttingDown: boolean };
  metrics: Pick<GatewayMetrics, "requests" | "errors" | "duration">;
}): MiddlewareHandler<GatewayEnv> {
  return async function scopeStage(c, next) {
    if (deps.lifecycle.shuttingDown) {
      throw new GatewayError({
        status: 503,
        message: "The gateway is shutting down; retry on another replica.",
        code: "shutting_down",
        droppedReason: "rejected-shutting-down",
        headers: { "retry-after": "1", connection: "close" },
      });
    }
    const s = new RequestScope(deps.clock);
    c.set("scope", s);
    s.hold({ release: (outcome) => record(c, s, outcome) });
    await next();
    s.status = c.res.status;
    if (!s.streaming) s.end(c.res.status < 400 ? "success" : "error");
  };

  function record(c: Context<GatewayEnv>, s: RequestScope, outcome: Outcome): void {
    const model = c.var.inferenceRequest?.model;
    if (model === undefined) return; // rejected before the body was understood
    const labels = { model_name: model, target_model_name: c.var.targetModel?.target ?? "" };
    deps.metrics.requests.inc(labels);
    if (outcome === "success" && s.status < 400) {
      deps.metrics.duration.observe(labels, (deps.clock.now() - s.receivedAt) / 1000);
    } else {
      const code = outcome === "aborted" ? "client_aborted" : String(s.status || 500);
      deps.metrics.errors.inc({ ...labels, error_code: code });
    }
  }
}
