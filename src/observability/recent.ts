import { cut } from "../cut.ts";
import { type RequestRecord, requestFields } from "../request-line.ts";

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

/** The strings of a record (and of its notes) cut to MAX_SUMMARY_TEXT, in place: the ring keeps it. */
function boundRecord(r: RequestRecord): RequestRecord {
  if (r.model !== undefined && r.model.length > MAX_SUMMARY_TEXT) r.model = cut(r.model, MAX_SUMMARY_TEXT);
  if (r.targetModel !== undefined && r.targetModel.length > MAX_SUMMARY_TEXT)
    r.targetModel = cut(r.targetModel, MAX_SUMMARY_TEXT);
  if (r.rewrite !== undefined && r.rewrite.length > MAX_SUMMARY_TEXT)
    r.rewrite = cut(r.rewrite, MAX_SUMMARY_TEXT);
  if (r.fairnessId !== undefined && r.fairnessId.length > MAX_SUMMARY_TEXT)
    r.fairnessId = cut(r.fairnessId, MAX_SUMMARY_TEXT);
  if (r.pool !== undefined && r.pool.length > MAX_SUMMARY_TEXT) r.pool = cut(r.pool, MAX_SUMMARY_TEXT);
  if (r.kind !== undefined && r.kind.length > MAX_SUMMARY_TEXT) r.kind = cut(r.kind, MAX_SUMMARY_TEXT);
  if (r.requestId.length > MAX_SUMMARY_TEXT) r.requestId = cut(r.requestId, MAX_SUMMARY_TEXT);
  if (r.droppedReason !== undefined && r.droppedReason.length > MAX_SUMMARY_TEXT)
    r.droppedReason = cut(r.droppedReason, MAX_SUMMARY_TEXT);
  if (r.outcome.length > MAX_SUMMARY_TEXT) r.outcome = cut(r.outcome, MAX_SUMMARY_TEXT);
  // The notes are the scope's own object: a copy when one of them is cut.
  r.log = boundStrings(r.log as RequestSummary) as RequestRecord["log"];
  return r;
}

/** The dashboard's summary of a record: the log line's fields in its order, without the tenant key and stream flag. */
function summaryOf(r: RequestRecord): RequestSummary {
  const { tenantKey: _tenantKey, stream: _stream, ...summary } = requestFields(r);
  return summary as unknown as RequestSummary;
}

/**
 * The last `capacity` finished requests, in a fixed ring (memory stays flat), plus a
 * sequence number so a reader can ask for what it has not seen yet. The gateway keeps each
 * request's record (`record`) and builds the summaries only when the dashboard asks
 * (`since`): most requests are never shown.
 */
export class RecentRequests {
  private readonly ring: (RequestSummary | RequestRecord | undefined)[];
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

  /** Keeps a request's record (strings cut to MAX_SUMMARY_TEXT); its summary is built when read. */
  record(record: RequestRecord): void {
    this.ring[this.next] = boundRecord(record);
    this.next = (this.next + 1) % this.capacity;
    this.total++;
  }

  /** Requests numbered after `seq` (at most `capacity`), oldest first, and the newest number. */
  since(seq: number): { seq: number; items: RequestSummary[] } {
    const count = Math.min(this.total - seq, this.capacity, this.total);
    const items: RequestSummary[] = [];
    for (let i = count; i > 0; i--) {
      const item = this.ring[(this.next - i + this.capacity * 2) % this.capacity];
      if (item) items.push(isRecord(item) ? summaryOf(item) : item);
    }
    return { seq: this.total, items };
  }
}

function isRecord(item: RequestSummary | RequestRecord): item is RequestRecord {
  return typeof (item as RequestRecord).log === "object";
}
