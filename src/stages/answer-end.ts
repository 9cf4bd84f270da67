/**
 * The end of an answer's request (respond.ts holds one on the scope): the answer's tokens,
 * TTFT and metrics noted when the scope ends.
 */
import type { Endpoint } from "../endpoints/types.ts";
import type { RequestSeries } from "../metrics/request-series.ts";
import type { Deferred } from "../observability/after-answer.ts";
import type { SseAccounting } from "../proxy/accounting.ts";
import type { JsonAccounting } from "../proxy/json-accounting.ts";
import { recordAnswer } from "../proxy/record.ts";
import type { Outcome, Releasable } from "../scope.ts";
import type { Exchange } from "./exchange.ts";
import type { RespondDeps } from "./respond.ts";

/**
 * What the scope holds to note the answer's tokens and TTFT and record its metrics at the
 * request's end: one object, not an object, a closure and its scope per request (issue 19,
 * sixth pass). Positional: an options object would be one more allocation per request.
 * Its release takes the end time the scope read as it ended and hands itself to AfterAnswer,
 * whose `write` (at once, or after the answer has left: tenth pass) reads a JSON answer's usage, notes the log fields
 * (before the scope's own end writes the line: added first, written first) and records the
 * answer's metrics. A Responses API answer's id is routing's (`previous_response_id` must
 * find its pod), so its usage is read and `onAnswered` told in the release itself.
 */
export class AnswerEnd implements Releasable, Deferred {
  private endedAt = 0;
  private outcome: Outcome = "success";
  private told = false;

  constructor(
    private readonly x: Exchange,
    private readonly deps: RespondDeps,
    private readonly opts: {
      response: Response;
      endpoint: Endpoint;
      requestBytes: number;
      series: RequestSeries;
    },
    private readonly accounting: JsonAccounting | SseAccounting,
    private readonly stream: boolean,
  ) {}

  release(outcome: Outcome): void {
    const answered = outcome === "success" && this.opts.response.ok;
    this.outcome = outcome;
    if (answered) this.endedAt = this.x.scope.endedAt;
    if (this.x.inferenceRequest.kind === "responses") {
      this.read();
      if (answered) this.tell();
    }
    const after = this.deps.afterAnswer;
    if (after === undefined) this.write();
    else after.add(this);
  }

  write(): void {
    const { x, opts, accounting } = this;
    this.read();
    const scope = x.scope;
    const r = accounting.result;
    if (r.firstTokenAt !== undefined)
      scope.log.ttftMs = Math.round((r.firstTokenAt - scope.receivedAt) * 100) / 100;
    scope.log.promptTokens = r.usage?.promptTokens;
    scope.log.completionTokens = r.usage?.completionTokens ?? (r.contentEvents || undefined);
    scope.log.cachedTokens = r.usage?.cachedTokens;
    if (this.outcome === "success" && opts.response.ok) {
      recordAnswer({
        series: opts.series,
        stream: this.stream,
        receivedAt: scope.receivedAt,
        endedAt: this.endedAt,
        requestBytes: opts.requestBytes,
        result: r,
      });
      this.tell();
    }
  }

  /** A JSON answer's usage (and Responses API id), read once from the bytes it kept. */
  private read(): void {
    if (!this.stream) (this.accounting as JsonAccounting).flush();
  }

  /** `onAnswered`, once. */
  private tell(): void {
    if (this.told) return;
    this.told = true;
    const { x, opts } = this;
    this.deps.onAnswered?.({
      request: x.inferenceRequest,
      endpoint: opts.endpoint,
      result: this.accounting.result,
    });
  }
}
