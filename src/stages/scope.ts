import type { Clock } from "../clock.ts";
import { shuttingDown } from "../errors.ts";
import type { Logger } from "../log.ts";
import { errorCode } from "../metrics/error-code.ts";
import type { GatewayMetrics } from "../metrics/gateway-metrics.ts";
import type { AfterAnswer, Deferred } from "../observability/after-answer.ts";
import type { RecentRequests } from "../observability/recent.ts";
import type { RequestRecord } from "../request-line.ts";
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
  /** Where the request's metrics and line are written after its answer (absent: at once). */
  afterAnswer?: AfterAnswer;
}) {
  const ends: ScopeEnds = { after: deps.afterAnswer, finish };
  return {
    open(x: Exchange): void {
      if (deps.lifecycle.shuttingDown) {
        throw shuttingDown("The gateway is shutting down; retry on another replica.");
      }
      x.scope = new ExchangeScope(deps.clock, x, ends);
    },
    close(x: Exchange, res: Response): void {
      const s = x.scope;
      x.res = res;
      s.status = res.status;
      if (!s.streaming) s.end(res.status < 400 ? "success" : "error");
    },
  };

  /** The request's series and line, from what its end read (ExchangeScope.released); maybe after the answer. */
  function finish(end: ExchangeScope): void {
    const { x, outcome, durationMs } = end;
    const s = end;
    const req = x.inferenceRequest as Exchange["inferenceRequest"] | undefined;
    const targetModel = x.targetModel as Exchange["targetModel"] | undefined;
    const target = targetModel?.target;
    const res = x.res;
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
        series.failed(errorCode(s.status || 500, x.servedBy !== undefined));
    }
    // One line per request: routing decision and latencies; never a key or a prompt. One
    // fixed-shape record serves the line (written from a template, src/request-line.ts) and
    // the dashboard (which builds its summary only when read): no object spread per request.
    const record: RequestRecord = {
      at: end.at,
      requestId: x.requestId,
      model: req?.model,
      kind: req?.kind,
      pool: (x.pool as Exchange["pool"] | undefined)?.name,
      targetModel: target,
      rewrite: targetModel?.rewriteName,
      fairnessId: req?.fairnessId,
      status: s.status,
      outcome,
      // Only an answer of 400 or more says why the request was dropped: a success reads no headers.
      droppedReason:
        s.status >= 400 ? (res?.headers.get("x-gateway-request-dropped-reason") ?? undefined) : undefined,
      durationMs: Math.round(durationMs * 100) / 100,
      log: s.log,
      tenantKey: x.principal?.name,
      stream: req?.stream,
    };
    deps.logger.request(record);
    deps.recent?.record(record);
  }
}

/** What every ExchangeScope of one stage shares: one object, not three fields a request. */
interface ScopeEnds {
  after: AfterAnswer | undefined;
  finish: (end: ExchangeScope) => void;
}

/**
 * The request's scope, which writes the request's metrics and line at its end itself: after
 * every resource it holds is released, as the object it held first did (issue 19: that object
 * replaced an object, a closure and its scope in the fifth pass; it is the scope itself since
 * the fourteenth, one object a request fewer). Its end takes the request's duration from the
 * scope's end time, reads the wall clock (the line's `at`) and hands itself to AfterAnswer,
 * which writes it at once or after the answer has left (tenth pass).
 */
class ExchangeScope extends RequestScope implements Deferred {
  outcome: Outcome = "success";
  durationMs = 0;
  at = 0;

  constructor(
    clock: Clock,
    readonly x: Exchange,
    private readonly ends: ScopeEnds,
  ) {
    super(clock);
  }

  protected override released(outcome: Outcome): void {
    const ends = this.ends;
    this.outcome = outcome;
    this.durationMs = this.endedAt - this.receivedAt;
    this.at = Date.now();
    if (ends.after === undefined) ends.finish(this);
    else ends.after.add(this);
  }

  write(): void {
    this.ends.finish(this);
  }
}

/** The client went away: its stream was cancelled, or it left before the answer (499). */
function clientLeft(outcome: Outcome, status: number): boolean {
  return outcome === "aborted" || status === 499;
}
