import type { Context, MiddlewareHandler } from "hono";
import type { Clock } from "../clock.ts";
import type { GatewayEnv } from "../env.ts";
import { shuttingDown } from "../errors.ts";
import type { Logger } from "../log.ts";
import { errorCode, SERVED_BY_HEADER } from "../metrics/error-code.ts";
import type { GatewayMetrics } from "../metrics/gateway-metrics.ts";
import type { RecentRequests, RequestSummary } from "../observability/recent.ts";
import { type Outcome, RequestScope } from "../scope.ts";

/**
 * Opens the request's scope. When the chain returns without a live stream (an error,
 * an empty body), the scope ends here; a live stream ends it itself when the body
 * finishes, breaks or is cancelled by the client. Request metrics and the one log
 * line per request are written at that one end.
 */
export function scope(deps: {
  clock: Clock;
  lifecycle: { shuttingDown: boolean };
  metrics: Pick<GatewayMetrics, "series">;
  logger: Logger;
  recent?: RecentRequests;
}): MiddlewareHandler<GatewayEnv> {
  return async function scopeStage(c, next) {
    if (deps.lifecycle.shuttingDown) {
      throw shuttingDown("The gateway is shutting down; retry on another replica.");
    }
    const s = new RequestScope(deps.clock);
    c.set("scope", s);
    s.hold({ release: (outcome) => finish(c, s, outcome) });
    await next();
    s.status = c.res.status;
    if (!s.streaming) s.end(c.res.status < 400 ? "success" : "error");
  };

  function finish(c: Context<GatewayEnv>, s: RequestScope, outcome: Outcome): void {
    const req = c.get("inferenceRequest");
    const target = c.get("targetModel")?.target;
    const durationMs = deps.clock.now() - s.receivedAt;
    if (req) {
      const series = deps.metrics.series(
        req.model,
        target ?? "",
        req.fairnessId,
        c.get("admission")?.priority ?? 0,
      );
      series.counted();
      if (outcome === "success" && s.status < 400) series.succeeded(durationMs / 1000);
      // A client that leaves (mid-stream, or before the answer: 499) is not the pool's
      // error; GIE counts no error for a cancelled request either.
      else if (!clientLeft(outcome, s.status))
        series.failed(errorCode(s.status || 500, c.res.headers.has(SERVED_BY_HEADER)));
    }
    // One line per request: routing decision and latencies; never a key or a prompt.
    const summary: RequestSummary = {
      at: Date.now(),
      requestId: c.get("requestId"),
      model: req?.model,
      kind: req?.kind,
      pool: c.get("pool")?.name,
      targetModel: target,
      rewrite: c.get("targetModel")?.rewriteName,
      fairnessId: req?.fairnessId,
      status: s.status,
      outcome,
      droppedReason: c.res.headers.get("x-gateway-request-dropped-reason") ?? undefined,
      durationMs: Math.round(durationMs * 100) / 100,
      ...s.log,
    };
    deps.recent?.push(summary);
    deps.logger.info("request", { ...summary, tenantKey: c.get("principal")?.name, stream: req?.stream });
  }
}

/** The client went away: its stream was cancelled, or it left before the answer (499). */
function clientLeft(outcome: Outcome, status: number): boolean {
  return outcome === "aborted" || status === 499;
}
