import type { Clock } from "../clock.ts";
import { shuttingDown } from "../errors.ts";
import type { Logger } from "../log.ts";
import { errorCode, SERVED_BY_HEADER } from "../metrics/error-code.ts";
import type { GatewayMetrics } from "../metrics/gateway-metrics.ts";
import type { RecentRequests, RequestSummary } from "../observability/recent.ts";
import { type Outcome, RequestScope } from "../scope.ts";
import type { Exchange } from "./exchange.ts";

/**
 * Opens the request's scope (`open`, first) and, once the other stages answered (`close`,
 * last), ends it unless the answer is a live stream (an error, a whole body); a live stream
 * ends it itself when the body finishes, breaks or is cancelled by the client. Request
 * metrics and the one log line per request are written at that one end.
 */
export function scope(deps: {
  clock: Clock;
  lifecycle: { shuttingDown: boolean };
  metrics: Pick<GatewayMetrics, "series">;
  logger: Logger;
  recent?: RecentRequests;
}) {
  return {
    open(x: Exchange): void {
      if (deps.lifecycle.shuttingDown) {
        throw shuttingDown("The gateway is shutting down; retry on another replica.");
      }
      const s = new RequestScope(deps.clock);
      x.scope = s;
      s.hold({ release: (outcome) => finish(x, s, outcome) });
    },
    close(x: Exchange, res: Response): void {
      const s = x.scope;
      x.res = res;
      s.status = res.status;
      if (!s.streaming) s.end(res.status < 400 ? "success" : "error");
    },
  };

  function finish(x: Exchange, s: RequestScope, outcome: Outcome): void {
    const req = x.inferenceRequest as Exchange["inferenceRequest"] | undefined;
    const targetModel = x.targetModel as Exchange["targetModel"] | undefined;
    const target = targetModel?.target;
    const durationMs = deps.clock.now() - s.receivedAt;
    const headers = x.res?.headers;
    if (req) {
      const series = deps.metrics.series(req.model, target ?? "", req.fairnessId, x.admission?.priority ?? 0);
      series.counted();
      if (outcome === "success" && s.status < 400) series.succeeded(durationMs / 1000);
      // A client that leaves (mid-stream, or before the answer: 499) is not the pool's
      // error; GIE counts no error for a cancelled request either.
      else if (!clientLeft(outcome, s.status))
        series.failed(errorCode(s.status || 500, headers?.has(SERVED_BY_HEADER) ?? false));
    }
    // One line per request: routing decision and latencies; never a key or a prompt.
    const at = Date.now();
    const requestId = x.requestId;
    const model = req?.model;
    const kind = req?.kind;
    const pool = (x.pool as Exchange["pool"] | undefined)?.name;
    const rewrite = targetModel?.rewriteName;
    const fairnessId = req?.fairnessId;
    const status = s.status;
    const droppedReason = headers?.get("x-gateway-request-dropped-reason") ?? undefined;
    const duration = Math.round(durationMs * 100) / 100;
    const log = s.log;
    // The dashboard's summary and the log line are two literals with the same fields in the
    // same order (the line adds tenantKey and stream): V8 copies a spread of the 20-field
    // summary into the line through its slow path, ~5 µs a request under Node (0.3 this way).
    const summary: RequestSummary = {
      at,
      requestId,
      model,
      kind,
      pool,
      targetModel: target,
      rewrite,
      fairnessId,
      status,
      outcome,
      droppedReason,
      durationMs: duration,
      ...log,
    };
    deps.recent?.push(summary);
    deps.logger.info("request", {
      at,
      requestId,
      model,
      kind,
      pool,
      targetModel: target,
      rewrite,
      fairnessId,
      status,
      outcome,
      droppedReason,
      durationMs: duration,
      ...log,
      tenantKey: x.principal?.name,
      stream: req?.stream,
    });
  }
}

/** The client went away: its stream was cancelled, or it left before the answer (499). */
function clientLeft(outcome: Outcome, status: number): boolean {
  return outcome === "aborted" || status === 499;
}
