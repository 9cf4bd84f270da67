import type { GatewayMetrics } from "../metrics/gateway-metrics.ts";
import type { AccountingResult } from "./accounting.ts";

type Labels = { model_name: string; target_model_name: string };

/**
 * Records one finished answer: TTFT = first non-empty chunk − request received
 * (queueing included); TPOT = (e2e − TTFT)/(out − 1); NTPOT = e2e/out; token counts
 * from the pod's usage (or counted content events when it reports none).
 */
export function recordAnswer(opts: {
  metrics: GatewayMetrics;
  labels: Labels;
  receivedAt: number;
  endedAt: number;
  requestBytes: number;
  result: AccountingResult;
}): void {
  const { metrics: m, labels, result: r } = opts;
  m.requestSizes.observe(labels, opts.requestBytes);
  m.responseSizes.observe(labels, r.responseBytes);
  const e2e = (opts.endedAt - opts.receivedAt) / 1000;
  const out = r.usage?.completionTokens ?? r.contentEvents;
  if (r.usage) m.inputTokens.observe(labels, r.usage.promptTokens);
  if (out > 0) m.outputTokens.observe(labels, out);
  if (r.firstTokenAt !== undefined) {
    const ttft = (r.firstTokenAt - opts.receivedAt) / 1000;
    m.ttft.observe(labels, ttft);
    if (out > 1) m.tpot.observe(labels, (e2e - ttft) / (out - 1));
  }
  if (out > 0) m.ntpot.observe(labels, e2e / out);
}
