/** A tiny structured logger: one JSON object per line, levels configurable. */

import { cut } from "./cut.ts";

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  level: LogLevel;
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(level: LogLevel = "info", write: (line: string) => void = console.log): Logger {
  const logger: Logger = {
    level,
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
  };
  function emit(at: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (RANK[at] < RANK[logger.level]) return;
    write(JSON.stringify({ time: new Date().toISOString(), level: at, msg, ...bounded(fields) }));
  }
  return logger;
}

/** Longest string field a log line carries; client strings (model names, ids) can be megabytes. */
export const MAX_LOG_FIELD = 2048;

/** Cuts a long string to `max` characters (a copy: see src/cut.ts) and says how long it was. */
export function truncate(text: string, max: number): string {
  return cut(text, max, `…(${text.length} chars)`);
}

/** Fields with every string (top level, and one level into plain objects) cut to MAX_LOG_FIELD. */
function bounded(fields: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!fields) return fields;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (typeof v === "string") out[k] = truncate(v, MAX_LOG_FIELD);
    else if (v && Object.getPrototypeOf(v) === Object.prototype) {
      const inner: Record<string, unknown> = {};
      for (const [ik, iv] of Object.entries(v))
        inner[ik] = typeof iv === "string" ? truncate(iv, MAX_LOG_FIELD) : iv;
      out[k] = inner;
    } else out[k] = v;
  }
  return out;
}

export const silentLogger = (): Logger => createLogger("silent");
