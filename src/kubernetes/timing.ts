/**
 * Abortable waits and capped exponential backoff for the watch loops. Every timer made
 * here is cleared when its wait ends or is aborted, so `stop()` leaves none behind.
 * Timers come from an injected `SetTimer` (real ones by default), so tests drive the
 * back-off with a fake clock instead of sleeping.
 */
import { type SetTimer, systemTimer } from "../clock.ts";

/** Waits `ms`, or less if `signal` aborts first (then resolves, never rejects). */
export function sleep(ms: number, signal: AbortSignal, setTimer: SetTimer = systemTimer): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      cancel();
      signal.removeEventListener("abort", done);
      resolve();
    };
    const cancel = setTimer(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Runs `fn` with a signal that aborts when `parent` aborts or after `ms`, whichever is
 * first; the timer and the listener are released when `fn` settles.
 */
export async function withDeadline<T>(
  parent: AbortSignal,
  ms: number,
  fn: (signal: AbortSignal) => Promise<T>,
  setTimer: SetTimer = systemTimer,
): Promise<T> {
  const ctl = new AbortController();
  const abort = () => ctl.abort(parent.reason);
  if (parent.aborted) abort();
  else parent.addEventListener("abort", abort, { once: true });
  const cancel = setTimer(() => ctl.abort(new Error(`deadline of ${ms} ms passed`)), ms);
  try {
    return await fn(ctl.signal);
  } finally {
    cancel();
    parent.removeEventListener("abort", abort);
  }
}

/**
 * Capped exponential backoff with "equal jitter": delay n is uniform in
 * [d/2, d] where d = min(max, min * 2^n). `reset()` after a success.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    const d = Math.min(this.maxMs, this.minMs * 2 ** this.attempt);
    if (d < this.maxMs) this.attempt++;
    return Math.round(d / 2 + (d / 2) * this.random());
  }

  reset(): void {
    this.attempt = 0;
  }
}
