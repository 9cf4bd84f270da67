import type { LineBuffer } from "./line-buffer.ts";
import type { RequestLog } from "./scope.ts";

/**
 * One finished request as its log line and the dashboard tell it (src/stages/scope.ts makes
 * one per request): the fixed fields in line order, then the stages' own notes (`log`, in the
 * order they were written), then `tenantKey` and `stream`. One fixed-shape object instead of
 * two 20-field literals (the line and the dashboard's summary) with a spread each.
 */
export interface RequestRecord {
  at: number;
  requestId: string;
  model: string | undefined;
  kind: string | undefined;
  pool: string | undefined;
  targetModel: string | undefined;
  rewrite: string | undefined;
  fairnessId: string | undefined;
  status: number;
  outcome: string;
  droppedReason: string | undefined;
  durationMs: number;
  log: RequestLog;
  tenantKey: string | undefined;
  stream: boolean | undefined;
}

/** Longest string field a log line carries; client strings (model names, ids) can be megabytes. */
export const MAX_LOG_FIELD = 2048;

/** Field names the line writes itself: a note of the same name takes the generic path. */
const FIXED = new Set([
  "time",
  "level",
  "msg",
  "at",
  "requestId",
  "model",
  "kind",
  "pool",
  "targetModel",
  "rewrite",
  "fairnessId",
  "status",
  "outcome",
  "droppedReason",
  "durationMs",
  "tenantKey",
  "stream",
]);

/** `,"name":` of each note name seen (the stages' own few), or null for a name the template cannot write. */
const notePrefixes = new Map<string, string | null>();

/**
 * A note's `,"name":` as the line writes it: null when its name would reorder the line (a
 * fixed field's name, or an integer-like name, which JSON objects list first), undefined
 * when it needs escaping (written through LineBuffer.string each time). Remembered for the
 * first 256 names: the stages write a handful; a name is looked up once instead of checked
 * and escaped per line.
 */
function notePrefix(k: string): string | null | undefined {
  const known = notePrefixes.get(k);
  if (known !== undefined) return known;
  const c = k.charCodeAt(0);
  if ((c >= 48 && c <= 57) || FIXED.has(k)) return null;
  for (let i = 0; i < k.length; i++) {
    const ch = k.charCodeAt(i);
    if (ch < 32 || ch > 126 || ch === 34 || ch === 92) return undefined;
  }
  const prefix = `,"${k}":`;
  if (notePrefixes.size < 256) notePrefixes.set(k, prefix);
  return prefix;
}

/** Writes `prefix` (`,"key":`) and `v` as JSON.stringify would in an object; nothing for what JSON leaves out. */
function member(b: LineBuffer, prefix: string, v: unknown, cut: (v: unknown) => unknown): void {
  switch (typeof v) {
    case "string":
      b.ascii(prefix);
      b.string(v.length > MAX_LOG_FIELD ? (cut(v) as string) : v);
      return;
    case "number":
      b.ascii(prefix);
      b.number(v);
      return;
    case "boolean":
      b.ascii(prefix);
      b.ascii(v ? "true" : "false");
      return;
    case "undefined":
    case "function":
    case "symbol":
      return;
    default: {
      const json = JSON.stringify(cut(v));
      if (json === undefined) return;
      b.ascii(prefix);
      b.encoded(json);
    }
  }
}

/**
 * Writes the request's log line into `b` (no newline): the same characters as
 * `JSON.stringify` of `{ time, level: "info", msg: "request", ...fields }` with every field
 * passed through `cut` (what the logger's generic path writes; test/unit/request-line.test.ts
 * compares the two), from a fixed template: field names and quotes are constants, values are
 * escaped only when they are strings that need it, undefined fields left out as JSON leaves
 * them. Writes nothing and returns false when a note's name would reorder the line (a fixed
 * field's name, or an integer-like name, which JSON objects list first): the caller takes
 * the generic path then.
 */
export function writeRequestLine(
  b: LineBuffer,
  time: string | number,
  r: RequestRecord,
  cut: (v: unknown) => unknown,
): boolean {
  const log = r.log as Record<string, unknown>;
  for (const k in log) if (notePrefix(k) === null) return false;
  b.ascii('{"time":"');
  if (typeof time === "number") b.isoTime(time);
  else b.ascii(time);
  b.ascii('","level":"info","msg":"request","at":');
  b.number(r.at);
  member(b, ',"requestId":', r.requestId, cut);
  member(b, ',"model":', r.model, cut);
  member(b, ',"kind":', r.kind, cut);
  member(b, ',"pool":', r.pool, cut);
  member(b, ',"targetModel":', r.targetModel, cut);
  member(b, ',"rewrite":', r.rewrite, cut);
  member(b, ',"fairnessId":', r.fairnessId, cut);
  b.ascii(',"status":');
  b.number(r.status);
  member(b, ',"outcome":', r.outcome, cut);
  member(b, ',"droppedReason":', r.droppedReason, cut);
  b.ascii(',"durationMs":');
  b.number(r.durationMs);
  for (const k in log) {
    const v = log[k];
    if (v === undefined) continue;
    const prefix = notePrefix(k);
    if (prefix !== undefined) {
      member(b, prefix as string, v, cut);
      continue;
    }
    const at = b.pos;
    b.ascii(",");
    b.string(k);
    const key = b.pos - at;
    b.ascii(":");
    member(b, "", v, cut);
    // A value JSON leaves out (a function): its key goes too.
    if (b.pos === at + key + 1) b.pos = at;
  }
  member(b, ',"tenantKey":', r.tenantKey, cut);
  member(b, ',"stream":', r.stream, cut);
  b.ascii("}");
  return true;
}

/** The record as the object the generic logger path would serialise (its fields, then the notes). */
export function requestFields(r: RequestRecord): Record<string, unknown> {
  return {
    at: r.at,
    requestId: r.requestId,
    model: r.model,
    kind: r.kind,
    pool: r.pool,
    targetModel: r.targetModel,
    rewrite: r.rewrite,
    fairnessId: r.fairnessId,
    status: r.status,
    outcome: r.outcome,
    droppedReason: r.droppedReason,
    durationMs: r.durationMs,
    ...r.log,
    tenantKey: r.tenantKey,
    stream: r.stream,
  };
}
