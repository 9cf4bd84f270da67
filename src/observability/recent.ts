import { cut } from "../cut.ts";

/** One finished request as the dashboard shows it (the same fields as the request log line). */
export interface RequestSummary {
  /** Wall-clock ms when the request ended. */
  at: number;
  requestId?: string;
  model?: string;
  /** The API (chat, embeddings, responses...). */
  kind?: string;
  targetModel?: string;
  rewrite?: string;
  fairnessId?: string;
  /** The InferencePool the request was routed to (absent before routing, e.g. a 404 model). */
  pool?: string;
  endpoint?: string;
  priority?: number;
  status: number;
  outcome: string;
  droppedReason?: string;
  queueMs?: number;
  ttftMs?: number;
  durationMs: number;
  promptTokens?: number;
  completionTokens?: number;
  cachedTokens?: number;
}

/** Longest string a summary keeps: 500 summaries of 1 MiB model names would be 500 MiB. */
export const MAX_SUMMARY_TEXT = 256;

/** Per request: a for-in over the summary (Object.entries allocated an array of pairs each time). */
function boundStrings(summary: RequestSummary): RequestSummary {
  let out: Record<string, unknown> | undefined;
  const fields = summary as unknown as Record<string, unknown>;
  for (const k in fields) {
    const v = fields[k];
    if (typeof v === "string" && v.length > MAX_SUMMARY_TEXT) {
      out ??= { ...summary };
      out[k] = cut(v, MAX_SUMMARY_TEXT); // a copy: a slice would keep the whole megabyte alive
    }
  }
  return (out as RequestSummary | undefined) ?? summary;
}

/**
 * The last `capacity` finished requests, in a fixed ring (memory stays flat), plus a
 * sequence number so a reader can ask for what it has not seen yet.
 */
export class RecentRequests {
  private readonly ring: (RequestSummary | undefined)[];
  private next = 0;
  private total = 0;

  constructor(readonly capacity = 500) {
    this.ring = new Array(capacity);
  }

  /** Keeps a summary; client strings in it (model names, fairness id) are cut to MAX_SUMMARY_TEXT. */
  push(summary: RequestSummary): void {
    this.ring[this.next] = boundStrings(summary);
    this.next = (this.next + 1) % this.capacity;
    this.total++;
  }

  /** Requests numbered after `seq` (at most `capacity`), oldest first, and the newest number. */
  since(seq: number): { seq: number; items: RequestSummary[] } {
    const count = Math.min(this.total - seq, this.capacity, this.total);
    const items: RequestSummary[] = [];
    for (let i = count; i > 0; i--) {
      const item = this.ring[(this.next - i + this.capacity * 2) % this.capacity];
      if (item) items.push(item);
    }
    return { seq: this.total, items };
  }
}
