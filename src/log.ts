/** A tiny structured logger: one JSON object per line, levels configurable. */

import { type SetTimer, systemTimer } from "./clock.ts";
import { cut } from "./cut.ts";
import { isoSecondPrefix, LineBuffer } from "./line-buffer.ts";
import { type Batched, type BatchedBytes, batchedBytes, stdoutBytes } from "./log-bytes.ts";
import { MAX_LOG_FIELD, type RequestRecord, requestFields, writeRequestLine } from "./request-line.ts";

export { type Batched, MAX_LOG_FIELD };

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  level: LogLevel;
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /**
   * The one line per request (msg "request", level info): the same characters as
   * `info("request", fields)` would write, from a pre-built template (src/request-line.ts).
   */
  request(record: RequestRecord): void;
  /** Writes what is batched now (the process is about to exit). */
  flush?(): void;
}

export function createLogger(
  level: LogLevel = "info",
  write: ((line: string) => void) | Batched | undefined = undefined,
): Logger {
  const out = write ?? batchedStdout();
  const batched = "now" in out ? (out as Batched) : undefined;
  const bytes = "bytes" in out ? (out as BatchedBytes) : undefined;
  // Where the line is built for a writer that takes strings (a test's, console.log's).
  const scratch = new LineBuffer(1024);
  // The line being written (set just before, cleared just after): one `fill` for every line,
  // not a closure per request (issue 19, sixth pass). Writing is synchronous.
  let lineTime = 0;
  let lineRecord: RequestRecord | undefined;
  const fill = (b: LineBuffer) => writeRequestLine(b, lineTime, lineRecord!, bounded);
  const logger: Logger = {
    level,
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
    request(record) {
      if (RANK.info < RANK[logger.level]) return;
      lineTime = Date.now();
      lineRecord = record;
      let written: boolean;
      try {
        if (bytes) written = bytes.bytes(fill);
        else {
          scratch.pos = 0;
          written = fill(scratch);
          if (written) out(scratch.text());
        }
      } finally {
        lineRecord = undefined;
      }
      if (written) return;
      // A note whose name would reorder the line: the generic path writes it.
      emit("info", "request", requestFields(record));
    },
    flush: () => batched?.flush(),
  };
  function emit(at: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (RANK[at] < RANK[logger.level]) return;
    // One object, built once: no spread of the fields into a copy, then into another.
    const line: Record<string, unknown> = { time: isoNow(), level: at, msg };
    if (fields) for (const k in fields) line[k] = bounded(fields[k]);
    const text = JSON.stringify(line);
    if (batched && RANK[at] >= RANK.warn) batched.now(text);
    else out(text);
  }
  return logger;
}

/**
 * `new Date().toISOString()` without a Date and a full format per line: the
 * "YYYY-MM-DDTHH:MM:SS." part is formatted once a second, the milliseconds appended.
 */
export function isoNow(ms = Date.now()): string {
  const second = Math.floor(ms / 1000);
  const rest = ms - second * 1000;
  return `${isoSecondPrefix(second)}${rest < 10 ? "00" : rest < 100 ? "0" : ""}${rest}Z`;
}

/** Lines kept before a write: past this many characters they go out at once. */
const BATCH_CHARS = 64 * 1024;

/**
 * How long a request line may wait for others to share its write. With a 0 ms timer a
 * client sending one request at a time paid one write syscall per request (~8 µs, measured
 * on Node at 1 connection); 20 ms batches every rate above 50 requests a second, and a line
 * is never later than that.
 */
export const BATCH_DELAY_MS = 20;

/**
 * Standard output, batched: lines encoded as they come and written as bytes, one write per
 * batch, where the runtime has a synchronous byte writer (src/log-bytes.ts); console.log
 * batches elsewhere. Either way the same characters, in the same batches.
 */
export function batchedStdout(setTimer: SetTimer = systemTimer): Batched | BatchedBytes {
  const lines = batchedConsole(setTimer);
  const write = stdoutBytes();
  return write ? batchedBytes(write, lines, BATCH_DELAY_MS, setTimer) : lines;
}

/**
 * console.log, one call per batch of lines: a request's log line is written with the
 * others of the next BATCH_DELAY_MS (or 64 KiB), not one write per request,
 * which cost ~8 µs of syscall per request under load. Warnings and errors go out at
 * once, after what is pending, so a line written just before the process dies is kept.
 */
export function batchedConsole(
  setTimer: SetTimer = systemTimer,
  print: (text: string) => void = (text) => console.log(text),
): Batched {
  let pending: string[] = [];
  let chars = 0;
  let cancel: (() => void) | undefined;
  const flush = () => {
    cancel?.();
    cancel = undefined;
    if (pending.length === 0) return;
    const text = pending.join("\n");
    pending = [];
    chars = 0;
    print(text);
  };
  const batched = (line: string) => {
    pending.push(line);
    chars += line.length;
    if (chars >= BATCH_CHARS) flush();
    else cancel ??= setTimer(flush, BATCH_DELAY_MS);
  };
  return Object.assign(batched, {
    flush,
    now(line: string) {
      flush();
      print(line);
    },
  });
}

/** Cuts a long string to `max` characters (a copy: see src/cut.ts) and says how long it was. */
export function truncate(text: string, max: number): string {
  return cut(text, max, `…(${text.length} chars)`);
}

/** A field with every string (top level, and one level into plain objects) cut to MAX_LOG_FIELD. */
function bounded(v: unknown): unknown {
  if (typeof v === "string") return v.length > MAX_LOG_FIELD ? truncate(v, MAX_LOG_FIELD) : v;
  if (!v || Object.getPrototypeOf(v) !== Object.prototype) return v;
  const inner: Record<string, unknown> = {};
  for (const [ik, iv] of Object.entries(v))
    inner[ik] = typeof iv === "string" && iv.length > MAX_LOG_FIELD ? truncate(iv, MAX_LOG_FIELD) : iv;
  return inner;
}

export const silentLogger = (): Logger => createLogger("silent");
