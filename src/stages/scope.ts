import type { Clock } from "../clock.ts";
import { shuttingDown } from "../errors.ts";
import type { Logger } from "../log.ts";
import { errorCode, SERVED_BY_HEADER } from "../metrics/error-code.ts";
import type { GatewayMetrics } from "../metrics/gateway-metrics.ts";
import type { RecentRequests } from "../observability/recent.ts";
import type { RequestRecord } from "../request-line.ts";
import { type Outcome, type Releasable, RequestScope } from "../scope.ts";
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
      s.hold(new ScopeEnd(x, s, finish));
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
      // Forward's series when it resolved one for this target (the same arguments, the same answer).
      const series =
        x.series !== undefined && x.seriesFor === targetModel
          ? x.series
          : deps.metrics.series(req.model, target ?? "", req.fairnessId, x.admission?.priority ?? 0);
      series.counted();
      if (outcome === "success" && s.status < 400) series.succeeded(durationMs / 1000);
      // A client that leaves (mid-stream, or before the answer: 499) is not the pool's
      // error; GIE counts no error for a cancelled request either.
      else if (!clientLeft(outcome, s.status))
        series.failed(errorCode(s.status || 500, headers?.has(SERVED_BY_HEADER) ?? false));
    }
    // One line per request: routing decision and latencies; never a key or a prompt. One
    // fixed-shape record serves the line (written from a template, src/request-line.ts) and
    // the dashboard (which builds its summary only when read): no object spread per request.
    const record: RequestRecord = {
      at: Date.now(),
      requestId: x.requestId,
      model: req?.model,
      kind: req?.kind,
      pool: (x.pool as Exchange["pool"] | undefined)?.name,
      targetModel: target,
      rewrite: targetModel?.rewriteName,
      fairnessId: req?.fairnessId,
      status: s.status,
      outcome,
      droppedReason: headers?.get("x-gateway-request-dropped-reason") ?? undefined,
      durationMs: Math.round(durationMs * 100) / 100,
      log: s.log,
      tenantKey: x.principal?.name,
      stream: req?.stream,
    };
    deps.logger.request(record);
    deps.recent?.record(record);
  }
}

/**
 * What the scope holds to write the request's metrics and line at its end: one object
 * rather than an object, a closure and the scope it keeps (issue 19, fifth pass).
 */
class ScopeEnd implements Releasable {
  constructor(
    private readonly x: Exchange,
    private readonly s: RequestScope,
    private readonly finish: (x: Exchange, s: RequestScope, outcome: Outcome) => void,
  ) {}

  release(outcome: Outcome): void {
    this.finish(this.x, this.s, outcome);
  }
}

/** The client went away: its stream was cancelled, or it left before the answer (499). */
function clientLeft(outcome: Outcome, status: number): boolean {
  return outcome === "aborted" || status === 499;
}
