import type { RequestSeries } from "../metrics/request-series.ts";
import type { AccountingResult } from "./accounting.ts";

/**
 * Records one finished answer on the request's series (GIE's and llm-d's names): sizes,
 * token counts from the pod's usage (or counted content events when it reports none),
 * TTFT, TPOT and NTPOT; see RequestSeries.answered for the formulas.
 */
export function recordAnswer(opts: {
  series: RequestSeries;
  stream: boolean;
  receivedAt: number;
  endedAt: number;
  requestBytes: number;
  result: AccountingResult;
}): void {
  const r = opts.result;
  opts.series.answered({
    e2e: (opts.endedAt - opts.receivedAt) / 1000,
    ttft: r.firstTokenAt === undefined ? undefined : (r.firstTokenAt - opts.receivedAt) / 1000,
    stream: opts.stream,
    requestBytes: opts.requestBytes,
    responseBytes: r.responseBytes,
    promptTokens: r.usage?.promptTokens,
    cachedTokens: r.usage?.cachedTokens,
    outputTokens: r.usage?.completionTokens ?? r.contentEvents,
  });
}
