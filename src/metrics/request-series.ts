import type { GieRequestMetrics, LlmdRequestMetrics } from "./gateway-metrics.ts";
import type { ModelLabels } from "./label-cap.ts";

type Observer = { observe(value: number): void };
type Incrementer = { inc(value?: number): void };
type UpDown = { inc(value?: number): void; dec(value?: number): void };

/** One finished answer, as the response relay measured it. */
export interface Answer {
  /** End-to-end seconds, request received to last byte. */
  e2e: number;
  /** Seconds to the first non-empty content chunk (queueing included), if one came. */
  ttft: number | undefined;
  stream: boolean;
  requestBytes: number;
  responseBytes: number;
  promptTokens: number | undefined;
  cachedTokens: number | undefined;
  /** Output tokens: the pod's usage, or counted content events. */
  outputTokens: number;
}

/**
 * Every series one request touches, under GIE's names and llm-d's, resolved once for
 * a (model, target, fairness id, priority) set. Values are the same in both families;
 * only the names, label sets and (for TTFT / TPOT) buckets differ, as upstream's do.
 */
export class RequestSeries {
  private readonly total: Incrementer[];
  private readonly duration: Observer[];
  private readonly gieRunning: UpDown;
  private readonly llmdRunning: UpDown;
  private readonly requestSizes: Observer[];
  private readonly responseSizes: Observer[];
  private readonly inputTokens: Observer[];
  private readonly outputTokens: Observer[];
  private readonly cachedTokens: Observer[];
  private readonly ntpot: Observer[];
  private readonly gieTtft: Observer;
  private readonly gieTpot: Observer;
  private readonly llmdTtft: [Observer, Observer];
  private readonly llmdStreamingTpot: Observer;
  private readonly flowLabels: ModelLabels & { fairness_id: string; priority: string };

  constructor(
    private readonly gie: GieRequestMetrics,
    private readonly llmd: LlmdRequestMetrics,
    private readonly labels: ModelLabels,
    fairnessId: string,
    priority: string,
  ) {
    const f = { ...labels, fairness_id: fairnessId, priority };
    this.flowLabels = f;
    this.total = [gie.requests.labels({ ...labels, priority }), llmd.requests.labels(f)];
    this.duration = [gie.duration.labels(labels), llmd.duration.labels(f)];
    this.gieRunning = gie.running.labels({ model_name: labels.model_name });
    this.llmdRunning = llmd.running.labels(f);
    this.requestSizes = [gie.requestSizes.labels(labels), llmd.requestSizes.labels(f)];
    this.responseSizes = [gie.responseSizes.labels(labels), llmd.responseSizes.labels(f)];
    this.inputTokens = [gie.inputTokens.labels(labels), llmd.inputTokens.labels(f)];
    this.outputTokens = [gie.outputTokens.labels(labels), llmd.outputTokens.labels(f)];
    this.cachedTokens = [gie.cachedTokens.labels(labels), llmd.cachedTokens.labels(f)];
    this.ntpot = [gie.ntpot.labels(labels), llmd.ntpot.labels(f)];
    this.gieTtft = gie.ttft.labels(labels);
    this.gieTpot = gie.tpot.labels(labels);
    this.llmdTtft = [
      llmd.ttft.labels({ ...f, streaming: "false" }),
      llmd.ttft.labels({ ...f, streaming: "true" }),
    ];
    this.llmdStreamingTpot = llmd.streamingTpot.labels(f);
  }

  /** The request reached its end (counted whatever the outcome, as upstream does). */
  counted(): void {
    for (const c of this.total) c.inc();
  }

  /** A successful request's end-to-end duration. */
  succeeded(seconds: number): void {
    for (const h of this.duration) h.observe(seconds);
  }

  /** An error answer (rare: labels are resolved here, not cached). */
  failed(errorCode: string): void {
    this.gie.errors.inc({ ...this.labels, error_code: errorCode });
    this.llmd.errors.inc({ ...this.flowLabels, error_code: errorCode });
  }

  /** Dispatched to a pod: running until `stopped()`. */
  started(): void {
    this.gieRunning.inc();
    this.llmdRunning.inc();
  }

  stopped(): void {
    this.gieRunning.dec();
    this.llmdRunning.dec();
  }

  /**
   * `stopped()` as a request scope's hold (forward holds it from dispatch to the request's
   * end): made once per series, not an object and a closure per request.
   */
  readonly running = { release: (): void => this.stopped() };

  /**
   * One finished answer: TTFT = first non-empty chunk − request received (queueing
   * included); TPOT = (e2e − TTFT)/(out − 1); NTPOT = e2e/out. llm-d's TTFT equals the
   * whole duration for a non-streamed answer, and its TPOT is for streams only.
   */
  answered(a: Answer): void {
    for (const h of this.requestSizes) h.observe(a.requestBytes);
    for (const h of this.responseSizes) h.observe(a.responseBytes);
    // Upstream skips a zero input / output count (no usage), but records zero cached tokens.
    if (a.promptTokens) for (const h of this.inputTokens) h.observe(a.promptTokens);
    if (a.cachedTokens !== undefined) for (const h of this.cachedTokens) h.observe(a.cachedTokens);
    const out = a.outputTokens;
    if (out > 0) {
      for (const h of this.outputTokens) h.observe(out);
      for (const h of this.ntpot) h.observe(a.e2e / out);
    }
    if (a.ttft !== undefined) {
      this.gieTtft.observe(a.ttft);
      if (out > 1) {
        const tpot = (a.e2e - a.ttft) / (out - 1);
        this.gieTpot.observe(tpot);
        if (a.stream) this.llmdStreamingTpot.observe(tpot);
      }
    }
    const llmdTtft = a.stream ? a.ttft : (a.ttft ?? a.e2e);
    if (llmdTtft !== undefined) this.llmdTtft[a.stream ? 1 : 0].observe(llmdTtft);
  }
}
